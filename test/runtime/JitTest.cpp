//===- JitTest.cpp - layers, their resolution and their launch -----------===//
//
// Part of the runtime-only test: the JIT and the layer resolver on a fake
// compiler (no MLIR) and a missing driver (no GPU).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "ssprop/Runtime/Driver.h"
#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/LayerResolver.h"
#include "ssprop/Runtime/PackedParams.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

using namespace ssprop;
using namespace ssprop::test;

namespace {

//===----------------------------------------------------------------------===//
// Keys
//===----------------------------------------------------------------------===//

TEST(LayerKey, EveryFieldChangesIt) {
  ConvLayerSpec base = baseLayer();
  CodegenOptions options;
  std::vector<std::function<void(ConvLayerSpec &, CodegenOptions &)>> edits = {
      [](auto &s, auto &) { s.inputShape[0] = 9; },
      [](auto &s, auto &) { s.inputShape[2] = 13; },
      [](auto &s, auto &) { s.weightShape[0] = 32; },
      [](auto &s, auto &) { s.weightShape[3] = 1; },
      [](auto &s, auto &) {
        s.stride = {2, 2};
      },
      [](auto &s, auto &) {
        s.padding = {0, 1};
      },
      [](auto &s, auto &) {
        s.dilation = {1, 2};
      },
      [](auto &s, auto &) { s.groups = 2; },
      [](auto &s, auto &) { s.dtype = ElementType::f16; },
      [](auto &s, auto &) { s.keep = 0.25; },
      [](auto &s, auto &) { s.select = Select::random; },
      [](auto &s, auto &) { s.weightOnly = true; },
      [](auto &s, auto &) { s.needInputGrad = false; },
      [](auto &, auto &o) { o.arch = Arch::sm80; },
      [](auto &, auto &o) { o.dgradTile = getSimtTileConfigs()[1]; },
      [](auto &, auto &o) { o.wgradTile = getSimtTileConfigs()[1]; },
      [](auto &, auto &o) { o.wgradSplitK = 3; },
  };
  std::set<std::string> keys = {getLayerKey(base, options)};
  for (auto &edit : edits) {
    ConvLayerSpec spec = base;
    CodegenOptions changed = options;
    edit(spec, changed);
    EXPECT_TRUE(keys.insert(getLayerKey(spec, changed)).second)
        << getLayerKey(spec, changed);
  }
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

TEST(Jit, ConcurrentLayerRequestsCompileOnce) {
  FakeCompiler compiler;
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(), compiler.get());
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] { jit.getLayer(baseLayer(), CodegenOptions()); });
  for (auto &thread : threads)
    thread.join();
  auto layer = jit.getLayer(baseLayer(), CodegenOptions());
  EXPECT_EQ(*compiler.calls, static_cast<int>(layer->plan.kernels.size()));
  EXPECT_EQ(jit.getLayerHits(), 4);
  EXPECT_EQ(layer->cubins.size(), layer->plan.kernels.size());
}

TEST(Jit, KeepsWithTheSameKeptCountShareOneLayer) {
  // A by-iteration schedule moves keep every step; k moves far less often.
  FakeCompiler compiler;
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(), compiler.get());
  ConvLayerSpec spec = baseLayer(); // 64 output channels
  spec.keep = 0.5;                  // k = 32
  auto first = jit.getLayer(spec, CodegenOptions());
  spec.keep = 0.51; // k = floor(32.64) = 32
  EXPECT_EQ(jit.getLayer(spec, CodegenOptions()), first);
  EXPECT_EQ(jit.getLayerHits(), 1);
  spec.keep = 0.52; // k = floor(33.28) = 33
  EXPECT_NE(jit.getLayer(spec, CodegenOptions()), first);
}

//===----------------------------------------------------------------------===//
// CPU layers
//===----------------------------------------------------------------------===//

TEST(LayerKey, CpuOptionsChangeTheCpuKey) {
  ConvLayerSpec spec = baseLayer();
  CpuCodegenOptions options;
  std::set<std::string> keys = {getCpuLayerKey(spec, options),
                                getLayerKey(spec, CodegenOptions())};
  CpuCodegenOptions avx512 = options, tile = options, threads = options;
  avx512.isa = Isa::avx512;
  tile.tile = getCpuTileConfigs(Isa::avx2)[1];
  threads.threads = 2;
  for (const CpuCodegenOptions &changed : {avx512, tile, threads})
    EXPECT_TRUE(keys.insert(getCpuLayerKey(spec, changed)).second);
  spec.keep = 0.25;
  EXPECT_TRUE(keys.insert(getCpuLayerKey(spec, options)).second);
}

/// What the fake CPU kernels saw: the slots and the tile range.
struct CpuCall {
  std::vector<uint64_t> slots;
  int64_t begin, end;
};
std::mutex cpuCallsMutex;
std::vector<CpuCall> cpuCalls;

template <int NumParams>
void recordCpuCall(const uint64_t *params, int64_t begin, int64_t end) {
  std::lock_guard<std::mutex> lock(cpuCallsMutex);
  cpuCalls.push_back({{params, params + NumParams}, begin, end});
}

/// A fake CPU toolchain: a one-call plan whose kernel takes (a buffer, k, a
/// scratch buffer of 4 floats per worker), counting compiles and links.
struct FakeCpu {
  std::shared_ptr<std::atomic<int>> layers =
      std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<int>> links =
      std::make_shared<std::atomic<int>>(0);
  FakeObjectCompiler objects;

  CpuToolchain get(bool withTarget = true) const {
    CpuToolchain cpu;
    cpu.compileLayer = [layers = layers](const ConvLayerSpec &,
                                         const CpuCodegenOptions &options) {
      ++*layers;
      CompileResult result;
      KernelPlan &plan = result.plan;
      plan.device = Device::cpu;
      plan.kernels.push_back(makeKernel("cpu_" + options.tile.getName()));
      plan.buffers = {
          {BufferSpec::Role::Argument, 0, ElementType::f32, 64, "arg0"},
          {BufferSpec::Role::Scratch, -1, ElementType::f32, 4, "scratch"}};
      plan.launches.push_back({0,
                               {5, 1, 1},
                               {1, 1, 1},
                               {{KernelParam::Kind::Buffer, 0},
                                {KernelParam::Kind::Int64, 7},
                                {KernelParam::Kind::Buffer, 1}}});
      return result;
    };
    cpu.compileKernel = objects.get();
    cpu.load = [links = links](const std::string &object,
                               const std::string &) -> CpuKernelEntry {
      EXPECT_EQ(object.rfind("object:", 0), 0u);
      ++*links;
      return recordCpuCall<3>;
    };
    if (withTarget)
      cpu.target = fakeCpu();
    return cpu;
  }
};

TEST(Jit, CpuLayersCompileOnceAndLinkEachKernelOnce) {
  FakeCpu cpu;
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(),
          FakeCompiler().get(), cpu.get());
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(
        [&] { jit.getCpuLayer(baseLayer(), CpuCodegenOptions()); });
  for (auto &thread : threads)
    thread.join();
  EXPECT_EQ(*cpu.layers, 1);
  EXPECT_EQ(*cpu.links, 1);
  EXPECT_EQ(jit.getLayerHits(), 3);
  // Another layer with the same kernel links nothing new.
  ConvLayerSpec other = baseLayer();
  other.keep = 0.25;
  auto layer = jit.getCpuLayer(other, CpuCodegenOptions());
  EXPECT_EQ(*cpu.layers, 2);
  EXPECT_EQ(*cpu.links, 1);
  EXPECT_EQ(*cpu.objects.calls, 1);
  EXPECT_EQ(layer->entries.size(), 1u);
}

TEST(Jit, RunCpuGivesEachWorkerItsTilesAndItsScratch) {
  FakeCpu cpu;
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(),
          FakeCompiler().get(), cpu.get());
  auto layer = jit.getCpuLayer(baseLayer(), CpuCodegenOptions());
  std::vector<float> argument(64), scratch(2 * 4);
  // Two workers: tiles [0, 3) on worker 1, [3, 5) on worker 0.
  ParallelFor twoWorkers = [](int64_t tiles, const auto &body) {
    body(0, 3, 1);
    body(3, tiles, 0);
  };
  cpuCalls.clear();
  Jit::runCpu(*layer, {argument.data(), scratch.data()}, {}, twoWorkers);
  ASSERT_EQ(cpuCalls.size(), 2u);
  auto address = [](const void *pointer) {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(pointer));
  };
  EXPECT_EQ(cpuCalls[0].slots, (std::vector<uint64_t>{
                                   address(argument.data()), 7,
                                   address(scratch.data() + 4)}));
  EXPECT_EQ(cpuCalls[0].begin, 0);
  EXPECT_EQ(cpuCalls[0].end, 3);
  EXPECT_EQ(cpuCalls[1].slots[2], address(scratch.data()));
  EXPECT_EQ(cpuCalls[1].begin, 3);
  EXPECT_EQ(cpuCalls[1].end, 5);
  // An empty range of calls runs nothing.
  cpuCalls.clear();
  Jit::runCpu(*layer, {argument.data(), scratch.data()}, {}, twoWorkers, 1);
  EXPECT_TRUE(cpuCalls.empty());
}

TEST(Jit, WithoutACpuTargetThereAreNoCpuKernels) {
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(),
          FakeCompiler().get(), FakeCpu().get(/*withTarget=*/false));
  EXPECT_EQ(jit.getCpuTarget(), std::nullopt);
  try {
    jit.getCpuLayer(baseLayer(), CpuCodegenOptions());
    ADD_FAILURE() << "no CompileError";
  } catch (const CompileError &error) {
    EXPECT_STREQ(error.what(), "ssprop: no CPU kernels on this machine (the "
                               "CPU backend needs AVX2 and FMA)");
  }
}

//===----------------------------------------------------------------------===//
// The driver and the launcher
//===----------------------------------------------------------------------===//

TEST(Driver, MissingDriverGivesTheDocumentedError) {
  ::setenv("SSPROP_CUDA_DRIVER", "libcuda-missing-for-test.so.1", 1);
  Jit jit(KernelCache::Options{}, FakeLayerCompiler().get(),
          FakeCompiler().get());
  auto layer = jit.getLayer(baseLayer(), CodegenOptions());
  std::vector<void *> buffers(layer->plan.buffers.size(), nullptr);
  try {
    jit.launch(*layer, buffers, {}, nullptr);
    FAIL() << "expected a DriverError";
  } catch (const DriverError &error) {
    EXPECT_EQ(std::string(error.what())
                  .rfind("ssprop: cannot load the CUDA driver "
                         "(libcuda-missing-for-test.so.1): ",
                         0),
              0u)
        << error.what();
    EXPECT_NE(
        std::string(error.what())
            .find("ssprop compiles kernels without a GPU, but launching them "
                  "needs an NVIDIA GPU and its driver."),
        std::string::npos);
  }
  ::unsetenv("SSPROP_CUDA_DRIVER");
}

TEST(PackedParams, AMissingBufferOrSeedThrows) {
  // Thrown where the runtime can catch it: PackedParams is built with
  // exceptions, not inside the compiler's -fno-exceptions libraries.
  KernelLaunch launch{
      0, {1, 1, 1}, {1, 1, 1}, {{KernelParam::Kind::Buffer, 2}}};
  std::vector<void *> buffers(2, nullptr);
  EXPECT_THROW(PackedParams(launch, buffers, {}), std::out_of_range);
  launch.params = {{KernelParam::Kind::Seed, 0}};
  EXPECT_THROW(PackedParams(launch, buffers, {}), std::out_of_range);
}

TEST(PackedParams, SlotsHoldTheValuesAsTheKernelReadsThem) {
  int data = 0;
  KernelLaunch launch{0,
                      {1, 1, 1},
                      {1, 1, 1},
                      {{KernelParam::Kind::Buffer, 0},
                       {KernelParam::Kind::Buffer, -1},
                       {KernelParam::Kind::Int32, -7},
                       {KernelParam::Kind::Int64, int64_t(1) << 40},
                       {KernelParam::Kind::Seed, 1}}};
  PackedParams params(launch, {&data}, {11, 22});
  void **slots = params.get();
  EXPECT_EQ(*static_cast<void **>(slots[0]), &data);
  EXPECT_EQ(*static_cast<void **>(slots[1]), nullptr);
  int32_t i32;
  std::memcpy(&i32, slots[2], sizeof(i32));
  EXPECT_EQ(i32, -7);
  EXPECT_EQ(*static_cast<int64_t *>(slots[3]), int64_t(1) << 40);
  EXPECT_EQ(*static_cast<uint64_t *>(slots[4]), 22u);
}

//===----------------------------------------------------------------------===//
// Layer resolution
//===----------------------------------------------------------------------===//

DeviceIdentity testDevice() { return {"test GPU", 90, 1, 1, 1}; }

/// Resolves layers on a fake compiler; times generated tactics as
/// `generatedMs`, the others as 1 ms, and counts the timings.
struct ResolverFixture : testing::Test {
  FakeLayerCompiler layerCompiler;
  Jit jit{KernelCache::Options{}, layerCompiler.get(), FakeCompiler().get()};
  TacticSelector selector{"", testDevice()};
  LayerResolver resolver{jit, selector};
  LayerTarget target;
  int timings = 0;
  double generatedMs = 0.5;

  LayerResolver::Timer timer() {
    return [this](const ResolvedLayer &candidate) {
      ++timings;
      return candidate.tactic.kind == TacticKind::generated ? generatedMs : 1.0;
    };
  }
  void TearDown() override { setForcedTacticName(""); }
};

TEST_F(ResolverFixture, ResolvesOnceThenAnswersFromTheMemo) {
  ConvLayerSpec spec = baseLayer();
  auto first = resolver.resolve(spec, target, timer());
  const int candidates = static_cast<int>(getTacticCandidates(spec).size());
  EXPECT_EQ(timings, candidates);
  EXPECT_EQ(first->tactic.kind, TacticKind::generated);
  ASSERT_NE(first->kernels, nullptr);
  EXPECT_EQ(first->kernels->plan.kernels.size(), 2u);
  spec.keep = 0.51; // the same k = 32: the same resolution
  auto second = resolver.resolve(spec, target, timer());
  EXPECT_EQ(second, first);
  EXPECT_EQ(timings, candidates);
  EXPECT_EQ(resolver.getHits(), 1);
}

TEST_F(ResolverFixture, AGatheredChoiceHasNoKernels) {
  generatedMs = 3.0;
  auto layer = resolver.resolve(baseLayer(), target, timer());
  EXPECT_EQ(layer->tactic, Tactic::gathered());
  EXPECT_EQ(layer->kernels, nullptr);
}

TEST_F(ResolverFixture, TheGeneratedChoiceCarriesItsTilesKernels) {
  generatedMs = 0.5;
  auto layer = resolver.resolve(baseLayer(), target, timer());
  ASSERT_EQ(layer->tactic.kind, TacticKind::generated);
  EXPECT_EQ(layer->kernels->plan.kernels[0].name,
            "wgrad_k32_" + layer->tactic.tile.getName());
}

TEST_F(ResolverFixture, AForcedTacticIsNotTimedAndChangingItResolvesAgain) {
  setForcedTacticName("gathered-cudnn");
  EXPECT_EQ(resolver.resolve(baseLayer(), target, timer())->tactic,
            Tactic::gathered());
  EXPECT_EQ(timings, 0);
  const std::string tile = getSimtTileConfigs()[1].getName();
  setForcedTacticName("generated:" + tile);
  auto forced = resolver.resolve(baseLayer(), target, timer());
  EXPECT_EQ(forced->tactic.getName(), "generated:" + tile);
  EXPECT_EQ(forced->kernels->plan.kernels[0].name, "wgrad_k32_" + tile);
  EXPECT_EQ(timings, 0);
}

TEST_F(ResolverFixture, ChangingTheForcedTacticReplacesTheMemo) {
  const std::string tiles[] = {getSimtTileConfigs()[0].getName(),
                               getSimtTileConfigs()[1].getName()};
  for (int i = 0; i < 6; ++i) {
    setForcedTacticName("generated:" + tiles[i % 2]);
    resolver.resolve(baseLayer(), target, timer());
    EXPECT_EQ(resolver.getMemoSize(), 1u) << "forced tactic #" << i;
  }
  EXPECT_EQ(resolver.getHits(), 0);
  resolver.resolve(baseLayer(), target, timer());
  EXPECT_EQ(resolver.getHits(), 1);
}

TEST_F(ResolverFixture, AForcedTacticThatIsNoCandidateIsAnError) {
  setForcedTacticName("cublas"); // a 3x3 layer is no plain GEMM
  EXPECT_THROW(resolver.resolve(baseLayer(), target, timer()), TacticError);
}

TEST_F(ResolverFixture, WithoutTimingTheFirstCandidateRunsUnmemoised) {
  auto layer =
      resolver.resolve(baseLayer(), target, timer(), /*mayTime=*/false);
  EXPECT_EQ(layer->tactic, getTacticCandidates(baseLayer()).front());
  EXPECT_EQ(timings, 0);
  // Once timing is possible, the layer is timed and memoised.
  resolver.resolve(baseLayer(), target, timer());
  EXPECT_GT(timings, 0);
  resolver.resolve(baseLayer(), target, timer(), /*mayTime=*/false);
  EXPECT_EQ(resolver.getHits(), 1);
}

TEST_F(ResolverFixture, AnotherKOrTargetIsAnotherLayer) {
  auto first = resolver.resolve(baseLayer(), target, timer());
  ConvLayerSpec other = baseLayer();
  other.keep = 0.25; // k = 16
  EXPECT_NE(resolver.resolve(other, target, timer()), first);
  LayerTarget exact = target;
  exact.allowTf32 = false;
  EXPECT_NE(resolver.resolve(baseLayer(), exact, timer()), first);
  EXPECT_EQ(resolver.getHits(), 0);
}

} // namespace

//===----------------------------------------------------------------------===//
// Background compiles and verification
//===----------------------------------------------------------------------===//

namespace {

using Clock = std::chrono::steady_clock;

/// A resolver whose compiler sleeps 200 ms per kernel, in background mode.
struct BackgroundFixture : ResolverFixture {
  FakeCompiler slowCompiler{std::make_shared<std::atomic<int>>(0), 1000,
                            std::chrono::milliseconds(200)};
  Jit slowJit{KernelCache::Options{}, layerCompiler.get(), slowCompiler.get()};
  LayerResolver slow{slowJit, selector, /*backgroundWorkers=*/2};

  std::shared_ptr<const ResolvedLayer> resolveInBackground() {
    return slow.resolve(baseLayer(), target, timer(), true, JitMode::background);
  }
};

TEST_F(BackgroundFixture, TheGatheredPathStandsInUntilTheKernelsAreCompiled) {
  const auto start = Clock::now();
  auto first = resolveInBackground();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(150));
  EXPECT_TRUE(first->provisional);
  EXPECT_EQ(first->tactic, Tactic::gathered());
  EXPECT_EQ(timings, 0);
  EXPECT_TRUE(resolveInBackground()->provisional); // one compile job only
  slow.waitForBackgroundCompiles();
  const int compiles = *slowCompiler.calls;
  auto ready = resolveInBackground();
  EXPECT_FALSE(ready->provisional);
  EXPECT_EQ(ready->tactic.kind, TacticKind::generated);
  EXPECT_GT(timings, 0);
  EXPECT_EQ(*slowCompiler.calls, compiles); // timing compiled nothing more
  EXPECT_EQ(slow.getStats().provisional, 2);
  EXPECT_EQ(resolveInBackground(), ready); // memoised
}

TEST_F(BackgroundFixture, DestructionWaitsForTheRunningCompiles) {
  auto resolver = std::make_unique<LayerResolver>(slowJit, selector, 1);
  resolver->resolve(baseLayer(), target, timer(), true, JitMode::background);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(resolver->getBackgroundPending(), 1);
  const int started = *slowCompiler.calls;
  resolver.reset(); // joins the running job; nothing after it starts
  EXPECT_GE(started, 1);
  EXPECT_GE(*slowCompiler.calls, started);
}

TEST_F(BackgroundFixture, AStoppedCompilerStartsNothing) {
  slow.stopBackgroundCompiles();
  EXPECT_TRUE(resolveInBackground()->provisional);
  EXPECT_EQ(slow.getBackgroundPending(), 0);
  EXPECT_EQ(*slowCompiler.calls, 0);
}

TEST_F(ResolverFixture, ACandidateThatFailsVerificationIsNeverChosen) {
  const Tactic wrong = Tactic::generated(getSimtTileConfigs()[0]);
  generatedMs = 0.5; // every generated tile beats gathered's 1 ms
  LayerResolver::Probe probe(timer(), [&](const ResolvedLayer &candidate) {
    return candidate.tactic == wrong ? std::string("grad_weight differs")
                                     : std::string();
  });
  testing::internal::CaptureStderr();
  auto layer = resolver.resolve(baseLayer(), target, probe);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_NE(layer->tactic, wrong);
  EXPECT_EQ(layer->tactic.kind, TacticKind::generated);
  EXPECT_EQ(resolver.getStats().rejected, 1);
  EXPECT_TRUE(selector.isRejected(getTacticKey(baseLayer(), target), wrong));
  EXPECT_NE(warnings.find("ssprop: warning: " + wrong.getName() +
                          " gives wrong results on layer "),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("(grad_weight differs)"), std::string::npos);
}

TEST_F(ResolverFixture, AForcedCandidateThatFailsVerificationGivesWay) {
  const Tactic wrong = Tactic::generated(getSimtTileConfigs()[1]);
  setForcedTacticName(wrong.getName());
  LayerResolver::Probe probe(timer(), [](const ResolvedLayer &) {
    return std::string("grad_input differs");
  });
  testing::internal::CaptureStderr();
  auto layer = resolver.resolve(baseLayer(), target, probe);
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(layer->tactic, Tactic::gathered());
  EXPECT_EQ(resolver.getStats().rejected, 1);
  // Without verification the forced tactic runs.
  setVerifying(false);
  setForcedTacticName("");
  setForcedTacticName(wrong.getName());
  EXPECT_EQ(resolver.resolve(baseLayer(), target, probe)->tactic, wrong);
  setVerifying(true);
}

} // namespace
