//===- NvrtcCompileTest.cpp - every kernel variant compiles with NVRTC ----===//
//
// Emits the kernels of every layer case for each arch, element type and tile
// configuration, compiles each with NVRTC to a cubin and checks what ptxas
// reports: no spills, shared memory within the static limit, registers
// within the block's budget.
//
//===----------------------------------------------------------------------===//

#include "LayerCases.h"
#include "ParamName.h"

#include "ssprop/Runtime/Nvrtc.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <ostream>

using namespace ssprop;

namespace {

constexpr int kStaticSharedLimit = 48 * 1024;
constexpr int kRegistersPerSM = 64 * 1024;

struct Variant {
  Arch arch;
  ElementType dtype;
  TileConfig tile;
};

/// E.g. `sm_90/f16/tc64x64_w4s4`: failure messages and test names.
std::ostream &operator<<(std::ostream &os, const Variant &v) {
  return os << getArchName(v.arch) << "/" << getElementTypeName(v.dtype) << "/"
            << v.tile.getName();
}

/// Layers whose GEMMs differ most in what they specialise on (gathered and
/// padded, plain 1x1, dense, grouped): what the non-default tiles compile.
bool isRepresentative(const std::string &layer) {
  for (const char *name :
       {"conv3x3_pad1", "pointwise_plain", "dense_keep1", "groups3"})
    if (layer == name)
      return true;
  return false;
}

/// Every distinct kernel of the layer cases, with its block size: for the
/// default tile every kernel of every case; for the others only the GEMMs
/// (the other kernels do not depend on the tile) of representative cases,
/// which keeps the CI time in check.
std::map<std::string, std::pair<KernelSource, unsigned>>
collectKernels(const Variant &variant) {
  auto [arch, dtype, tile] = variant;
  const bool everything = tile == getDefaultTileConfig();
  CodegenOptions options;
  options.arch = arch;
  options.dgradTile = options.wgradTile = tile;
  std::map<std::string, std::pair<KernelSource, unsigned>> kernels;
  for (test::LayerCase layer : test::getLayerCases()) {
    if (!everything && !isRepresentative(layer.name))
      continue;
    layer.spec.dtype = dtype;
    CompileResult result = compileConvBackward(layer.spec, options);
    EXPECT_TRUE(result.ok()) << layer.name << ": " << result.error;
    for (const KernelLaunch &launch : result.plan.launches) {
      const KernelSource &kernel = result.plan.kernels[launch.kernel];
      if (!everything &&
          kernel.name.find("_" + tile.getName() + "_") == std::string::npos)
        continue;
      unsigned threads = launch.block[0] * launch.block[1] * launch.block[2];
      kernels.emplace(kernel.name, std::make_pair(kernel, threads));
    }
  }
  return kernels;
}

class NvrtcCompile : public ::testing::TestWithParam<Variant> {};

TEST_P(NvrtcCompile, EveryKernelCompilesWithoutSpills) {
  Arch arch = GetParam().arch;
  auto kernels = collectKernels(GetParam());
  ASSERT_GE(kernels.size(), 7u) << "the cases should reach every GEMM kind";
  // Two compiles at a time: CI machines have two cores.
  std::vector<std::future<CompiledKernel>> pending;
  std::vector<std::pair<KernelSource, unsigned>> order;
  for (auto &[name, kernel] : kernels) {
    order.push_back(kernel);
    pending.push_back(std::async(std::launch::async, [&, kernel = kernel] {
      return compileWithNvrtc(kernel.first, arch);
    }));
    if (pending.size() % 2 == 0)
      pending[pending.size() - 2].wait();
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    const auto &[kernel, threads] = order[i];
    CompiledKernel compiled;
    ASSERT_NO_THROW(compiled = pending[i].get()) << kernel.name;
    SCOPED_TRACE(kernel.name + "\n" + compiled.log);
    EXPECT_EQ(compiled.cubin.compare(0, 4, "\x7f" "ELF"), 0);
    EXPECT_NE(compiled.cubin.find(kernel.name), std::string::npos);
    const ResourceUsage &usage = compiled.usage;
    ASSERT_GE(usage.registers, 1) << "no ptxas report in the log";
    EXPECT_EQ(usage.spillStoreBytes, 0);
    EXPECT_EQ(usage.spillLoadBytes, 0);
    EXPECT_LE(usage.sharedBytes, kStaticSharedLimit);
    EXPECT_LE(usage.registers * static_cast<int>(threads), kRegistersPerSM);
  }
}

/// Every arch, element type and tile configuration of that type (SIMT and
/// tensor cores).
std::vector<Variant> getVariants() {
  std::vector<Variant> variants;
  for (Arch arch : {Arch::sm80, Arch::sm90})
    for (ElementType type :
         {ElementType::f32, ElementType::f16, ElementType::bf16})
      for (const TileConfig &tile : getTileConfigs(type))
        variants.push_back({arch, type, tile});
  return variants;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, NvrtcCompile,
                         ::testing::ValuesIn(getVariants()),
                         test::PrintedParamName());

/// The selection kernel keeps its keys in shared memory: the largest layer
/// it supports must still compile within the limit.
TEST(NvrtcCompileSelect, LargestChannelCountFits) {
  ConvLayerSpec spec = test::makeSpec({1, 8, 4, 4}, {8192, 8, 1, 1}, 0.25);
  CompileResult result = compileConvBackward(spec, CodegenOptions());
  ASSERT_TRUE(result.ok()) << result.error;
  for (const KernelSource &kernel : result.plan.kernels) {
    if (kernel.name.find("select") == std::string::npos)
      continue;
    CompiledKernel compiled = compileWithNvrtc(kernel, Arch::sm90);
    EXPECT_EQ(compiled.usage.sharedBytes, 8192 * 4 + 32 * 4);
    EXPECT_EQ(compiled.usage.spillStoreBytes, 0);
    return;
  }
  FAIL() << "no select kernel emitted";
}

TEST(NvrtcCompileSelect, TooManyChannelsIsAnError) {
  ConvLayerSpec spec = test::makeSpec({1, 8, 4, 4}, {8200, 8, 1, 1}, 0.25);
  CompileResult result = compileConvBackward(spec, CodegenOptions());
  EXPECT_NE(result.error.find("'ssprop.select_topk' op selects among 8200 "
                              "channels; the GPU selection kernel handles at "
                              "most 8192"),
            std::string::npos)
      << result.error;
}

TEST(NvrtcErrors, CompileErrorNamesKernelAndCarriesLog) {
  KernelSource broken{"ssprop_broken_kernel",
                      "extern \"C\" __global__ void ssprop_broken_kernel() { "
                      "undeclared_identifier = 1; }"};
  try {
    compileWithNvrtc(broken, Arch::sm90);
    FAIL() << "expected an NvrtcError";
  } catch (const NvrtcError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("NVRTC compilation failed for kernel "
                           "ssprop_broken_kernel"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("undeclared_identifier"), std::string::npos)
        << message;
  }
}

} // namespace
