//===- TacticsTest.cpp - tactic choice and the timing cache (no GPU) ------===//

#include "ssprop/Runtime/Tactics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <sys/stat.h>

#include <unistd.h>

using namespace ssprop;
namespace fs = std::filesystem;

namespace {

DeviceIdentity h100() { return {"NVIDIA H100 80GB HBM3", 90, 13000, 13000, 13000}; }

fs::path getTempRoot() {
  return fs::temp_directory_path() /
         ("ssprop-tactics-test-" + std::to_string(::getpid()));
}

struct TempRootCleanup : testing::Environment {
  void TearDown() override { fs::remove_all(getTempRoot()); }
};
testing::Environment *const cleanup =
    testing::AddGlobalTestEnvironment(new TempRootCleanup);

fs::path freshDir(const std::string &name) {
  fs::path dir = getTempRoot() / name;
  fs::remove_all(dir);
  return dir;
}

/// A timer that reports fixed times and counts its calls.
struct FakeTimer {
  std::map<std::string, double> times;
  int calls = 0;
  TacticSelector::Timer get() {
    return [this](const Tactic &tactic) {
      ++calls;
      auto it = times.find(tactic.getName());
      if (it == times.end())
        throw std::runtime_error("cannot run this layer");
      return it->second;
    };
  }
};

std::vector<Tactic> parseAll(const std::vector<std::string> &names) {
  std::vector<Tactic> tactics;
  for (const std::string &name : names)
    tactics.push_back(Tactic::parse(name).value());
  return tactics;
}

std::vector<std::string> namesOf(const std::vector<Tactic> &tactics) {
  std::vector<std::string> names;
  for (const Tactic &tactic : tactics)
    names.push_back(tactic.getName());
  return names;
}

const std::vector<Tactic> kCandidates = parseAll(
    {"generated:64x64x16_4x4", "generated:128x128x8_8x8", "gathered-cudnn"});

/// Forces `name` for the test's scope.
struct ForcedTacticScope {
  explicit ForcedTacticScope(const std::string &name) {
    setForcedTacticName(name);
  }
  ~ForcedTacticScope() { setForcedTacticName(""); }
};

TEST(Tactics, CandidatesIncludeCublasOnlyForPlainGemms) {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 8, 8};
  spec.weightShape = {32, 16, 3, 3};
  std::vector<std::string> conv = namesOf(getTacticCandidates(spec));
  EXPECT_EQ(conv.size(), getTileConfigs(spec.dtype).size() + 1);
  EXPECT_EQ(conv.front(), "generated:tc64x64_w4s4");
  EXPECT_NE(std::find(conv.begin(), conv.end(), "generated:64x64x16_4x4"),
            conv.end());
  EXPECT_EQ(conv.back(), "gathered-cudnn");
  spec.weightShape = {32, 16, 1, 1};
  EXPECT_EQ(getTacticCandidates(spec).back().getName(), "cublas");
  spec.stride = {2, 2};
  EXPECT_EQ(getTacticCandidates(spec).back().getName(), "gathered-cudnn");
}

TEST(Tactics, PicksTheFastestAndSkipsThoseThatCannotRun) {
  FakeTimer timer;
  timer.times = {{"generated:64x64x16_4x4", 2.0}, {"gathered-cudnn", 1.5}};
  TacticSelector selector("", h100());
  EXPECT_EQ(selector.choose("layer", kCandidates, timer.get()).getName(),
            "gathered-cudnn");
  EXPECT_EQ(timer.calls, 3);
}

TEST(Tactics, ChoiceIsPersistedAndNotTimedAgain) {
  fs::path dir = freshDir("persist");
  FakeTimer timer;
  timer.times = {{"generated:64x64x16_4x4", 1.0}, {"generated:128x128x8_8x8", 3.0},
                 {"gathered-cudnn", 2.0}};
  TacticSelector(dir.string(), h100()).choose("layer", kCandidates, timer.get());
  EXPECT_EQ(timer.calls, 3);
  TacticSelector again(dir.string(), h100());
  EXPECT_EQ(again.choose("layer", kCandidates, timer.get()).getName(),
            "generated:64x64x16_4x4");
  EXPECT_EQ(timer.calls, 3) << "a cached choice must not be timed again";
  EXPECT_EQ(again.getTimings(), 0);
}

TEST(Tactics, AnotherDeviceOrDriverTimesAgain) {
  fs::path dir = freshDir("device");
  FakeTimer timer;
  timer.times = {{"gathered-cudnn", 1.0}};
  TacticSelector(dir.string(), h100()).choose("layer", kCandidates, timer.get());
  DeviceIdentity other = h100();
  other.driverVersion = 13010;
  EXPECT_NE(getTimingCacheKey(other), getTimingCacheKey(h100()));
  TacticSelector(dir.string(), other).choose("layer", kCandidates, timer.get());
  EXPECT_EQ(timer.calls, 6);
}

TEST(Tactics, ForcedTacticMustBeACandidate) {
  FakeTimer timer;
  TacticSelector selector("", h100());
  ForcedTacticScope gathered("gathered-cudnn");
  EXPECT_EQ(selector.choose("layer", kCandidates, timer.get()).getName(),
            "gathered-cudnn");
  EXPECT_EQ(timer.calls, 0);
  ForcedTacticScope cublas("cublas");
  try {
    selector.choose("layer", kCandidates, timer.get());
    ADD_FAILURE() << "expected a TacticError";
  } catch (const TacticError &error) {
    EXPECT_STREQ(error.what(),
                 "SSPROP_TACTIC=cublas is not a candidate for this layer; "
                 "candidates: generated:64x64x16_4x4, "
                 "generated:128x128x8_8x8, gathered-cudnn");
  }
}

TEST(Tactics, NoRunnableCandidateIsAnError) {
  FakeTimer timer;
  TacticSelector selector("", h100());
  try {
    selector.choose("layer", parseAll({"generated:64x64x16_4x4"}), timer.get());
    ADD_FAILURE() << "expected a TacticError";
  } catch (const TacticError &error) {
    EXPECT_STREQ(error.what(), "no tactic could run the layer:\n"
                               "  generated:64x64x16_4x4: cannot run this layer");
  }
}

TEST(Tactics, ForeignOrDamagedTimingFileIsIgnoredAndReplaced) {
  fs::path dir = freshDir("damaged");
  fs::create_directories(dir / "timing");
  fs::path file = dir / "timing" / (getTimingCacheKey(h100()) + ".txt");
  std::ofstream(file) << "not a timing cache\nlayer\tcublas\t0.1\n";
  FakeTimer timer;
  timer.times = {{"gathered-cudnn", 1.0}};
  TacticSelector selector(dir.string(), h100());
  EXPECT_EQ(selector.choose("layer", kCandidates, timer.get()).getName(),
            "gathered-cudnn");
  EXPECT_EQ(timer.calls, 3);
  std::ifstream in(file);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "ssprop-timing-v2");
}

TEST(Tactics, WithoutTf32F32LayersGetOnlyExactTiles) {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 8, 8};
  spec.weightShape = {32, 16, 3, 3};
  std::vector<std::string> exact = namesOf(getTacticCandidates(spec, false));
  EXPECT_EQ(exact.size(), getSimtTileConfigs().size() + 1);
  for (const TileConfig &tile : getSimtTileConfigs())
    EXPECT_NE(std::find(exact.begin(), exact.end(),
                        "generated:" + tile.getName()),
              exact.end());
  // f16 has no exact-f32 alternative: its tensor-core tiles stay.
  spec.dtype = ElementType::f16;
  EXPECT_EQ(getTacticCandidates(spec, false), getTacticCandidates(spec, true));
}

TEST(Tactics, GroupedOneByOneIsNotAPlainGemm) {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 8, 8};
  spec.weightShape = {32, 8, 1, 1};
  spec.groups = 2;
  EXPECT_EQ(getTacticCandidates(spec).back().getName(), "gathered-cudnn");
}

TEST(Tactics, CpuCandidatesFollowTheKernelsLimits) {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 40, 40};
  spec.weightShape = {32, 16, 3, 3};
  auto names = [&] {
    return namesOf(getCpuTacticCandidates(spec, Isa::avx2));
  };
  std::vector<std::string> all = names();
  EXPECT_EQ(all.size(), getCpuTileConfigs(Isa::avx2).size() + 1);
  EXPECT_EQ(all.back(), "gathered-aten");
  spec.stride = {kMaxCpuKernelStride + 1, 1};
  EXPECT_EQ(names(), std::vector<std::string>{"gathered-aten"});
  spec.stride = {kMaxCpuKernelStride, 1};
  EXPECT_EQ(names(), all);
  spec.dtype = ElementType::f16; // no f16 CPU kernels
  EXPECT_EQ(names(), std::vector<std::string>{"gathered-aten"});
  spec.dtype = ElementType::f32;
  EXPECT_EQ(namesOf(getCpuTacticCandidates(spec, std::nullopt)),
            std::vector<std::string>{"gathered-aten"});
  EXPECT_EQ(checkCpuKernelGeometry({1, 1}, {kMaxCpuKernelExtent + 1, 3}),
            "its kernel extent 65 is larger than the 64 the CPU kernels are "
            "generated for");
}

TEST(Tactics, ForcedTacticIsReturnedOnlyWhenSet) {
  EXPECT_EQ(getForcedTactic(kCandidates), std::nullopt);
  {
    ForcedTacticScope forced("gathered-cudnn");
    EXPECT_EQ(getForcedTactic(kCandidates), Tactic::gathered());
  }
  EXPECT_EQ(getForcedTactic(kCandidates), std::nullopt);
}

TEST(Tactics, ChangingTheForcedTacticChangesTheGeneration) {
  uint64_t before = getTacticSettingsGeneration();
  ForcedTacticScope forced("gathered-cudnn");
  EXPECT_NE(getTacticSettingsGeneration(), before);
}

TEST(Tactics, NamesRoundTripAndUnknownNamesAreRejected) {
  for (const Tactic &tactic :
       getTacticCandidates(ConvLayerSpec{{8, 16, 8, 8}, {32, 16, 1, 1}}))
    EXPECT_EQ(Tactic::parse(tactic.getName()), tactic) << tactic.getName();
  for (const char *bad : {"", "generated:", "generated:nope", "cudnn",
                          "gathered-cudnn ", "generated:tc64x64_w4s4x"})
    EXPECT_EQ(Tactic::parse(bad), std::nullopt) << bad;
}

TEST(Tactics, LookupAnswersOnlyFromTheCacheOrTheForcedTactic) {
  FakeTimer timer;
  timer.times = {{"gathered-cudnn", 1.0}};
  TacticSelector selector("", h100());
  EXPECT_EQ(selector.lookup("layer", kCandidates), std::nullopt);
  selector.choose("layer", kCandidates, timer.get());
  EXPECT_EQ(selector.lookup("layer", kCandidates), Tactic::gathered());
  ForcedTacticScope forced("generated:64x64x16_4x4");
  EXPECT_EQ(selector.lookup("other", kCandidates)->getName(),
            "generated:64x64x16_4x4");
  EXPECT_EQ(timer.calls, 3);
}

//===----------------------------------------------------------------------===//
// The timing cache on disk
//===----------------------------------------------------------------------===//

fs::path timingFile(const fs::path &dir) {
  return dir / "timing" / (getTimingCacheKey(h100()) + ".txt");
}

TEST(TimingCache, ConcurrentSaversLoseNoChoice) {
  // Four selectors (as four processes would) time different layers at once;
  // each save merges into the file under a lock.
  fs::path dir = freshDir("concurrent");
  constexpr int kSelectors = 4, kLayers = 25;
  std::vector<std::thread> threads;
  for (int s = 0; s < kSelectors; ++s)
    threads.emplace_back([&, s] {
      FakeTimer timer;
      timer.times = {{"gathered-cudnn", 1.0}};
      TacticSelector selector(dir.string(), h100());
      for (int i = 0; i < kLayers; ++i)
        selector.choose("layer" + std::to_string(s) + "-" + std::to_string(i),
                        kCandidates, timer.get());
    });
  for (auto &thread : threads)
    thread.join();
  FakeTimer timer;
  TacticSelector after(dir.string(), h100());
  for (int s = 0; s < kSelectors; ++s)
    for (int i = 0; i < kLayers; ++i)
      after.choose("layer" + std::to_string(s) + "-" + std::to_string(i),
                   kCandidates, timer.get());
  EXPECT_EQ(timer.calls, 0) << "choices were lost";
}

TEST(TimingCache, ALinkInPlaceOfTheFileIsNeitherReadNorFollowed) {
  fs::path dir = freshDir("linked");
  fs::create_directories(dir / "timing");
  fs::path victim = fs::path(freshDir("timing-victim")) / "victim.txt";
  fs::create_directories(victim.parent_path());
  std::ofstream(victim) << "ssprop-timing-v2\nlayer\tgathered-cudnn\t0.1\n";
  fs::create_symlink(victim, timingFile(dir));
  FakeTimer timer;
  timer.times = {{"generated:64x64x16_4x4", 1.0}};
  TacticSelector selector(dir.string(), h100());
  EXPECT_EQ(selector.choose("layer", kCandidates, timer.get()).getName(),
            "generated:64x64x16_4x4")
      << "the linked file's choice was used";
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "ssprop-timing-v2\nlayer\tgathered-cudnn\t0.1\n")
      << "the victim's file was overwritten";
  EXPECT_FALSE(fs::is_symlink(timingFile(dir))) << "replaced by our own file";
}

TEST(TimingCache, AFifoInPlaceOfTheFileDoesNotHang) {
  fs::path dir = freshDir("fifo");
  fs::create_directories(dir / "timing");
  ASSERT_EQ(::mkfifo(timingFile(dir).c_str(), 0600), 0);
  FakeTimer timer;
  timer.times = {{"gathered-cudnn", 1.0}};
  TacticSelector selector(dir.string(), h100()); // must not block
  EXPECT_EQ(selector.choose("layer", kCandidates, timer.get()).getName(),
            "gathered-cudnn");
}

} // namespace

namespace {

TEST(Tactics, CpuTacticsAreNamedForTheirDevice) {
  std::vector<Tactic> cpu = {Tactic::gathered(Device::cpu),
                             Tactic::gemm(Device::cpu)};
  for (Isa isa : {Isa::avx2, Isa::avx512})
    for (const CpuTileConfig &tile : getCpuTileConfigs(isa))
      cpu.push_back(Tactic::generated(tile));
  EXPECT_EQ(cpu[0].getName(), "gathered-aten");
  EXPECT_EQ(cpu[1].getName(), "gemm-aten");
  EXPECT_EQ(cpu[2].getName(), "generated:w6x2_d5x2t");
  for (const Tactic &tactic : cpu) {
    EXPECT_EQ(Tactic::parse(tactic.getName(), Device::cpu), tactic)
        << tactic.getName();
    EXPECT_EQ(Tactic::parse(tactic.getName(), Device::cuda), std::nullopt)
        << tactic.getName() << " is no CUDA tactic";
  }
  EXPECT_NE(Tactic::gathered(Device::cpu), Tactic::gathered(Device::cuda));
  for (const char *cudaOnly :
       {"gathered-cudnn", "cublas", "generated:64x64x16_4x4", "generated:w6x2"})
    EXPECT_EQ(Tactic::parse(cudaOnly, Device::cpu), std::nullopt) << cudaOnly;
}

TEST(Tactics, CpuInstructionSetFollowsTheFeatures) {
  EXPECT_EQ(getIsaForFeatures("+avx,+avx2,+fma,-avx512f"), Isa::avx2);
  EXPECT_EQ(getIsaForFeatures("+avx2,+fma,+avx512f,+avx512bw,+avx512dq,"
                              "+avx512vl"),
            Isa::avx512);
  // AVX-512 without VL (Knights Landing) runs the AVX2 kernels.
  EXPECT_EQ(getIsaForFeatures("+avx2,+fma,+avx512f,+avx512bw,+avx512dq"),
            Isa::avx2);
  EXPECT_EQ(getIsaForFeatures("+avx2,-fma"), std::nullopt);
  EXPECT_EQ(getIsaForFeatures("+avx2x,+fma"), std::nullopt);
  EXPECT_EQ(getVectorLength(Isa::avx2), 8);
  EXPECT_EQ(getVectorLength(Isa::avx512), 16);
  EXPECT_EQ(parseIsa("avx512"), Isa::avx512);
  EXPECT_EQ(parseIsa("sse"), std::nullopt);
}

} // namespace
