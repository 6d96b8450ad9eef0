//===- RuntimeTest.cpp - the JIT runtime's caches, keys and driver --------===//

#include "ssprop/Runtime/Driver.h"
#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Sha256.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

using namespace ssprop;
namespace fs = std::filesystem;

namespace {

fs::path getTempRoot() {
  return fs::temp_directory_path() /
         ("ssprop-runtime-test-" + std::to_string(::getpid()));
}

/// Removes the test's temporary directories at exit.
struct TempRootCleanup : testing::Environment {
  void TearDown() override { fs::remove_all(getTempRoot()); }
};
testing::Environment *const cleanup =
    testing::AddGlobalTestEnvironment(new TempRootCleanup);

/// A fresh directory under the test's temporary root.
fs::path makeTempDir(const std::string &name) {
  fs::path dir = getTempRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

KernelSource makeKernel(const std::string &name) {
  return {name, "// kernel " + name + "\n"};
}

/// A stand-in for NVRTC that counts its calls and makes `size`-byte cubins.
struct FakeCompiler {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  size_t size = 1000;
  std::chrono::milliseconds delay{0};

  KernelCache::Compiler get() const {
    return [calls = calls, size = size, delay = delay](const KernelSource &k,
                                                       Arch) {
      ++*calls;
      std::this_thread::sleep_for(delay);
      std::string cubin = "cubin:" + k.name + ":";
      cubin.resize(size, 'x');
      return cubin;
    };
  }
};

KernelCache::Options diskOptions(const fs::path &dir, int64_t maxBytes = 1 << 30) {
  KernelCache::Options options;
  options.directory = dir.string();
  options.maxBytes = maxBytes;
  return options;
}

ConvLayerSpec baseLayer() {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 12, 12};
  spec.weightShape = {64, 16, 3, 3};
  spec.padding = {1, 1};
  spec.keep = 0.5;
  return spec;
}

std::set<std::string> kernelKeys(const ConvLayerSpec &spec,
                                 const CodegenOptions &options) {
  KernelCache cache(KernelCache::Options{});
  CompileResult result = compileConvBackward(spec, options);
  EXPECT_TRUE(result.ok()) << result.error;
  std::set<std::string> keys;
  for (const KernelSource &kernel : result.plan.kernels)
    keys.insert(cache.getKey(kernel, options.arch));
  return keys;
}

//===----------------------------------------------------------------------===//
// Keys
//===----------------------------------------------------------------------===//

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(Sha256::hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string million(1000000, 'a');
  EXPECT_EQ(Sha256::hex(million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(LayerKey, EveryFieldChangesIt) {
  ConvLayerSpec base = baseLayer();
  CodegenOptions options;
  std::vector<std::function<void(ConvLayerSpec &, CodegenOptions &)>> edits = {
      [](auto &s, auto &) { s.inputShape[0] = 9; },
      [](auto &s, auto &) { s.inputShape[2] = 13; },
      [](auto &s, auto &) { s.weightShape[0] = 32; },
      [](auto &s, auto &) { s.weightShape[3] = 1; },
      [](auto &s, auto &) { s.stride = {2, 2}; },
      [](auto &s, auto &) { s.padding = {0, 1}; },
      [](auto &s, auto &) { s.dilation = {1, 2}; },
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

TEST(KernelKey, ArchAndSourceChangeIt) {
  KernelCache cache(KernelCache::Options{});
  KernelSource kernel = makeKernel("a");
  std::string key = cache.getKey(kernel, Arch::sm90);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, cache.getKey(kernel, Arch::sm90));
  EXPECT_NE(key, cache.getKey(kernel, Arch::sm80));
  KernelSource edited = kernel;
  edited.code += " ";
  EXPECT_NE(key, cache.getKey(edited, Arch::sm90));
}

/// Kernels depend on the k bucket, not on k: keeps within a bucket share
/// every cubin; crossing a bucket changes the kernels that depend on it.
TEST(KernelKey, KeepWithinOneBucketSharesKernels) {
  CodegenOptions options; // 64-row wgrad tiles: buckets of 64 channels
  ConvLayerSpec spec = baseLayer();
  spec.weightShape[0] = 256;
  spec.keep = 0.3; // k = 76 -> bucket 128
  std::set<std::string> a = kernelKeys(spec, options);
  spec.keep = 0.45; // k = 115 -> bucket 128
  std::set<std::string> b = kernelKeys(spec, options);
  spec.keep = 0.2; // k = 51 -> bucket 64
  std::set<std::string> c = kernelKeys(spec, options);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

//===----------------------------------------------------------------------===//
// Memory and disk cache
//===----------------------------------------------------------------------===//

TEST(KernelCache, ConcurrentRequestsCompileOnce) {
  FakeCompiler compiler;
  compiler.delay = std::chrono::milliseconds(50);
  KernelCache cache(KernelCache::Options{}, compiler.get());
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const std::string>> results(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back(
        [&, i] { results[i] = cache.getCubin(makeKernel("k"), Arch::sm90); });
  for (auto &thread : threads)
    thread.join();
  EXPECT_EQ(*compiler.calls, 1);
  for (auto &result : results)
    EXPECT_EQ(result, results[0]);
  CacheStats stats = cache.getStats();
  EXPECT_EQ(stats.compiles, 1);
  EXPECT_EQ(stats.memoryHits, 7);
}

TEST(KernelCache, SecondCacheOnTheSameDirectoryHitsDisk) {
  fs::path dir = makeTempDir("disk-hit");
  FakeCompiler compiler;
  KernelCache first(diskOptions(dir), compiler.get());
  auto cubin = first.getCubin(makeKernel("k"), Arch::sm90);
  KernelCache second(diskOptions(dir), compiler.get());
  EXPECT_EQ(*second.getCubin(makeKernel("k"), Arch::sm90), *cubin);
  EXPECT_EQ(*compiler.calls, 1);
  EXPECT_EQ(second.getStats().diskHits, 1);
  EXPECT_EQ(second.getStats().compiles, 0);
}

/// Damages the entry of `kernel` with `damage` and checks that a fresh cache
/// recompiles it and leaves a valid entry behind.
void expectRecompiledAfter(const std::string &name,
                           const std::function<void(const fs::path &)> &damage) {
  fs::path dir = makeTempDir(name);
  FakeCompiler compiler;
  KernelSource kernel = makeKernel("k");
  KernelCache(diskOptions(dir), compiler.get()).getCubin(kernel, Arch::sm90);
  KernelCache probe(diskOptions(dir), compiler.get());
  fs::path entry = probe.getEntryPath(probe.getKey(kernel, Arch::sm90));
  ASSERT_TRUE(fs::exists(entry));
  damage(entry);
  KernelCache cache(diskOptions(dir), compiler.get());
  std::string cubin = *cache.getCubin(kernel, Arch::sm90);
  EXPECT_EQ(cache.getStats().compiles, 1) << name;
  EXPECT_EQ(cache.getStats().diskHits, 0) << name;
  EXPECT_EQ(*compiler.calls, 2);
  KernelCache after(diskOptions(dir), compiler.get());
  EXPECT_EQ(*after.getCubin(kernel, Arch::sm90), cubin);
  EXPECT_EQ(after.getStats().diskHits, 1) << "the rewritten entry is valid";
}

TEST(KernelCache, CorruptedEntryIsRecompiled) {
  expectRecompiledAfter("corrupted", [](const fs::path &entry) {
    std::fstream file(entry, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-10, std::ios::end);
    file.put('!');
  });
}

TEST(KernelCache, TruncatedEntryIsRecompiled) {
  expectRecompiledAfter("truncated", [](const fs::path &entry) {
    fs::resize_file(entry, fs::file_size(entry) / 2);
  });
}

TEST(KernelCache, EntryWithBadHeaderIsRecompiled) {
  expectRecompiledAfter("bad-header", [](const fs::path &entry) {
    std::ofstream(entry, std::ios::binary) << "not a cache entry";
  });
}

TEST(KernelCache, EvictionKeepsTheBoundAndTheRecentlyUsed) {
  fs::path dir = makeTempDir("eviction");
  FakeCompiler compiler; // entries of ~1100 bytes
  KernelCache cache(diskOptions(dir, 3500), compiler.get());
  auto age = [&](const std::string &name, int seconds) {
    fs::path entry = cache.getEntryPath(cache.getKey(makeKernel(name), Arch::sm90));
    fs::last_write_time(entry, fs::file_time_type::clock::now() -
                                   std::chrono::seconds(seconds));
  };
  for (const char *name : {"a", "b", "c"})
    cache.getCubin(makeKernel(name), Arch::sm90);
  age("a", 300);
  age("b", 200);
  age("c", 100);
  // Reading "a" from disk makes it the most recently used.
  KernelCache(diskOptions(dir, 3500), compiler.get())
      .getCubin(makeKernel("a"), Arch::sm90);
  cache.getCubin(makeKernel("d"), Arch::sm90); // over the bound: evict "b"
  auto present = [&](const std::string &name) {
    return fs::exists(
        cache.getEntryPath(cache.getKey(makeKernel(name), Arch::sm90)));
  };
  EXPECT_TRUE(present("a"));
  EXPECT_FALSE(present("b"));
  EXPECT_TRUE(present("c"));
  EXPECT_TRUE(present("d"));
  uintmax_t total = 0;
  for (const auto &file : fs::directory_iterator(dir / "kernels"))
    total += fs::file_size(file.path());
  EXPECT_LE(total, 3500u);
}

TEST(KernelCache, UnwritableDirectoryFallsBackToMemory) {
  fs::path dir = makeTempDir("unwritable");
  std::ofstream(dir / "file") << "a file, not a directory";
  FakeCompiler compiler;
  KernelCache cache(diskOptions(dir / "file" / "cache"), compiler.get());
  testing::internal::CaptureStderr();
  cache.getCubin(makeKernel("a"), Arch::sm90);
  cache.getCubin(makeKernel("b"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(cache.isDiskEnabled());
  EXPECT_EQ(cache.getStats().compiles, 2);
  cache.getCubin(makeKernel("a"), Arch::sm90);
  EXPECT_EQ(cache.getStats().memoryHits, 1);
  // One warning, naming the directory.
  EXPECT_EQ(std::regex_search(warnings, std::regex("warning: cannot create .*"
                                                   "file/cache/kernels")),
            true)
      << warnings;
  EXPECT_EQ(warnings.find("warning"), warnings.rfind("warning")) << warnings;
}

TEST(Jit, ConcurrentLayerRequestsCompileOnce) {
  FakeCompiler compiler;
  Jit jit(KernelCache::Options{}, compiler.get());
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
  Jit jit(KernelCache::Options{}, compiler.get());
  ConvLayerSpec spec = baseLayer(); // 64 output channels
  spec.keep = 0.5;                  // k = 32
  auto first = jit.getLayer(spec, CodegenOptions());
  spec.keep = 0.51; // k = floor(32.64) = 32
  EXPECT_EQ(jit.getLayer(spec, CodegenOptions()), first);
  EXPECT_EQ(jit.getLayerHits(), 1);
  spec.keep = 0.52; // k = floor(33.28) = 33
  EXPECT_NE(jit.getLayer(spec, CodegenOptions()), first);
}

TEST(Jit, CompileErrorsCarryTheDiagnostics) {
  Jit jit(KernelCache::Options{}, FakeCompiler().get());
  ConvLayerSpec spec = baseLayer();
  spec.groups = 3; // 16 input channels are not divisible by 3
  try {
    jit.getLayer(spec, CodegenOptions());
    FAIL() << "expected a CompileError";
  } catch (const CompileError &error) {
    EXPECT_NE(std::string(error.what()).find(
                  "expected input channels 16 to be divisible by groups 3"),
              std::string::npos)
        << error.what();
  }
}

//===----------------------------------------------------------------------===//
// The driver and the launcher
//===----------------------------------------------------------------------===//

TEST(Driver, MissingDriverGivesTheDocumentedError) {
  ::setenv("SSPROP_CUDA_DRIVER", "libcuda-missing-for-test.so.1", 1);
  Jit jit(KernelCache::Options{}, FakeCompiler().get());
  auto layer = jit.getLayer(baseLayer(), CodegenOptions());
  std::vector<void *> buffers(layer->plan.buffers.size(), nullptr);
  try {
    jit.launch(*layer, buffers, {}, nullptr);
    FAIL() << "expected a DriverError";
  } catch (const DriverError &error) {
    EXPECT_EQ(std::string(error.what()).rfind(
                  "ssprop: cannot load the CUDA driver "
                  "(libcuda-missing-for-test.so.1): ",
                  0),
              0u)
        << error.what();
    EXPECT_NE(std::string(error.what()).find(
                  "ssprop compiles kernels without a GPU, but launching them "
                  "needs an NVIDIA GPU and its driver."),
              std::string::npos);
  }
  ::unsetenv("SSPROP_CUDA_DRIVER");
}

//===----------------------------------------------------------------------===//
// ssprop-compile across processes
//===----------------------------------------------------------------------===//

struct ToolRun {
  int status;
  std::string output;
};

ToolRun runCompileTool(const std::string &arguments) {
  std::string command = std::string(SSPROP_COMPILE_TOOL) + " " + arguments;
  FILE *pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe))
    output.append(buffer, n);
  return {::pclose(pipe), output};
}

int64_t jsonField(const std::string &json, const std::string &field) {
  std::smatch match;
  if (!std::regex_search(json, match,
                         std::regex("\"" + field + "\": ([0-9.]+)")))
    return -1;
  return std::stoll(match[1]);
}

const char *const kLayerArgs =
    "--input-shape 4,8,10,10 --weight-shape 24,8,3,3 --padding 1,1 "
    "--keep 0.5 --arch sm_90";

TEST(CompileTool, SecondProcessOnlyHitsDisk) {
  fs::path dir = makeTempDir("two-processes");
  std::string args = std::string(kLayerArgs) + " --cache-dir " + dir.string();
  ToolRun cold = runCompileTool(args);
  ToolRun warm = runCompileTool(args);
  ASSERT_EQ(cold.status, 0) << cold.output;
  ASSERT_EQ(warm.status, 0) << warm.output;
  int64_t kernels = jsonField(cold.output, "kernels");
  EXPECT_GE(kernels, 5);
  EXPECT_EQ(jsonField(cold.output, "compiled"), kernels);
  EXPECT_EQ(jsonField(warm.output, "compiled"), 0) << warm.output;
  EXPECT_EQ(jsonField(warm.output, "disk_hits"), kernels) << warm.output;
}

TEST(CompileTool, RacingProcessesLeaveAValidCache) {
  fs::path dir = makeTempDir("racing");
  std::string args = std::string(kLayerArgs) + " --cache-dir " + dir.string();
  std::string many;
  for (int i = 0; i < 4; ++i)
    many += std::string(SSPROP_COMPILE_TOOL) + " " + args + " > " +
            (dir / ("run" + std::to_string(i))).string() + " 2>&1 & ";
  ASSERT_EQ(std::system(("(" + many + "wait)").c_str()), 0);
  for (int i = 0; i < 4; ++i) {
    std::ifstream log(dir / ("run" + std::to_string(i)));
    std::string text((std::istreambuf_iterator<char>(log)), {});
    EXPECT_GE(jsonField(text, "kernels"), 5) << text;
  }
  for (const auto &file : fs::directory_iterator(dir / "kernels"))
    EXPECT_EQ(file.path().extension(), ".cubin") << "left " << file.path();
  ToolRun after = runCompileTool(args);
  EXPECT_EQ(jsonField(after.output, "compiled"), 0) << after.output;
  EXPECT_EQ(jsonField(after.output, "disk_hits"),
            jsonField(after.output, "kernels"));
}

TEST(CompileTool, CompilesAWholeNetworkFile) {
  fs::path dir = makeTempDir("network");
  ToolRun run = runCompileTool(std::string(SSPROP_SOURCE_DIR) +
                               "/examples/resnet18_backward.mlir --arch sm_80 "
                               "--cache-dir " + dir.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_GE(jsonField(run.output, "kernels"), 40) << run.output;
  EXPECT_EQ(jsonField(run.output, "compiled"), jsonField(run.output, "kernels"));
}

} // namespace
