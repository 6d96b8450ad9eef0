//===- RuntimeTest.cpp - the runtime on the real compiler -----------------===//
//
// What needs the compiler behind the runtime: the kernels it emits (their
// keys), its diagnostics through the JIT, and ssprop-compile's processes.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "ssprop/Runtime/Jit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

using namespace ssprop;
using namespace ssprop::test;

namespace {

testing::Environment *const cleanup =
    testing::AddGlobalTestEnvironment(new TempRootCleanup);

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

TEST(Jit, CompileErrorsCarryTheDiagnostics) {
  Jit jit(KernelCache::Options{}, compileConvBackward, FakeCompiler().get());
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

TEST(Compiler, EveryKeepTheBridgeAcceptsRoundTripsThroughTheIR) {
  // The bridge accepts any keep in (0, 1]; the IR must read it back exactly
  // (`1e-08` without a `.` does not lex as a float).
  ConvLayerSpec spec = baseLayer();
  for (double keep : {1e-8, 1e-300, 4.9e-324, 0.1, 1.0 / 3, 0.2, 0.999999,
                      std::nextafter(1.0, 0.0), 1.0}) {
    spec.keep = keep;
    CompileResult result = compileConvBackward(spec, CodegenOptions());
    EXPECT_TRUE(result.ok()) << "keep " << keep << ": " << result.error;
  }
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
