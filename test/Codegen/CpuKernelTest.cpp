//===- CpuKernelTest.cpp - the generated CPU kernels, run
//------------------===//
//
// Compiles each layer's CPU plan through the JIT (MLIR to the LLVM dialect,
// LLVM IR, an object, linked by ORC), runs it on random data with the tiles
// of each call spread over real threads, and compares every gradient with
// the naive double precision reference of Reference.h. Variants cover every
// layer case, f32 and bf16, every register tile, AVX-512's vector length
// (compiled for this CPU, so LLVM splits its vectors where AVX-512 is
// missing) and two workers.
//
//===----------------------------------------------------------------------===//

#include "LayerCases.h"
#include "PlanTest.h"

#include "ssprop/Core/RandomKey.h"
#include "ssprop/Runtime/Jit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

using namespace ssprop;
using ssprop::test::Buffers;

namespace {

/// One JIT for the whole test, caching objects in the build tree.
Jit &getJit() {
  static Jit jit(
      KernelCache::Options{SSPROP_CPU_TEST_CACHE_DIR, int64_t(1) << 30, false},
      compileConvBackward, nullptr, getCompilerCpuToolchain());
  return jit;
}

/// Runs each call's tiles in `workers` contiguous ranges, each on a thread
/// of its own.
ParallelFor onThreads(int workers) {
  return [workers](int64_t tiles, const auto &body) {
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      int64_t begin = tiles * w / workers, end = tiles * (w + 1) / workers;
      if (begin < end)
        threads.emplace_back([&body, begin, end, w] { body(begin, end, w); });
    }
    for (std::thread &thread : threads)
      thread.join();
  };
}

/// Runs every call of `layer`, checking the guard zones after each.
void runLayer(const CompiledCpuLayer &layer, Buffers &buffers, int workers,
              uint64_t seed = 1234) {
  std::vector<void *> pointers = buffers.getPointers();
  const KernelPlan &plan = layer.plan;
  std::vector<uint64_t> seeds(plan.numSeeds, seed);
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    Jit::runCpu(layer, pointers, seeds, onThreads(workers), i, i + 1);
    int overrun = buffers.findOverrun();
    ASSERT_EQ(overrun, -1) << plan.kernels[plan.launches[i].kernel].name
                           << " wrote past the end of buffer %" << overrun;
  }
}

/// Layers beyond the shared cases that reach the CPU kernels' other paths:
/// vectors of stride-2 planes, strides of 3, output planes wider than the
/// input, valid convolutions, several images per dgrad tile.
std::vector<test::LayerCase> getCpuLayerCases() {
  std::vector<test::LayerCase> cases = test::getLayerCases();
  auto add = [&](std::string name, ConvLayerSpec spec) {
    cases.push_back({std::move(name), spec});
  };
  ConvLayerSpec spec = test::makeSpec({2, 3, 18, 34}, {8, 3, 3, 3}, 0.5);
  spec.stride = {2, 2};
  spec.padding = {1, 1};
  add("stride2_wide_rows", spec);

  spec = test::makeSpec({2, 4, 10, 11}, {6, 4, 3, 3}, 0.5);
  spec.stride = {3, 3};
  spec.padding = {1, 0};
  add("stride3", spec);

  spec = test::makeSpec({3, 4, 6, 6}, {8, 4, 1, 1}, 0.5);
  spec.padding = {2, 1};
  add("pointwise_padded", spec);

  add("valid5x5", test::makeSpec({2, 3, 9, 8}, {7, 3, 5, 5}, 0.5));

  spec = test::makeSpec({8, 6, 8, 8}, {12, 6, 3, 3}, 0.5);
  spec.stride = {2, 2};
  spec.padding = {1, 1};
  add("small_planes_batch8", spec);

  // ResNet's downsampling shortcut: rows of 24 interleave more than one
  // vector of each output phase, and three of the four phases have no tap.
  spec = test::makeSpec({2, 16, 24, 24}, {8, 16, 1, 1}, 0.8);
  spec.stride = {2, 2};
  add("pointwise_stride2_24x24", spec);
  return cases;
}

struct Variant {
  std::string layer;
  ElementType dtype;
  CpuTileConfig tile;
  Isa isa;
  int workers;
};

std::ostream &operator<<(std::ostream &os, const Variant &v) {
  return os << v.layer << "_" << getElementTypeName(v.dtype) << "_"
            << v.tile.getName() << "_" << getIsaName(v.isa) << "_t"
            << v.workers;
}

/// f32 results reduce in another order than the reference: 1e-5 of the
/// largest value; bf16 results round to 8 significant bits.
double relativeTolerance(ElementType type) {
  return type == ElementType::bf16 ? 8e-3 : 1e-5;
}

class CpuKernels : public ::testing::TestWithParam<Variant> {};

TEST_P(CpuKernels, MatchesReference) {
  const Variant &variant = GetParam();
  if (!getJit().getCpuTarget())
    GTEST_SKIP() << "this CPU has no AVX2 and FMA: no CPU kernels";
  ConvLayerSpec spec;
  for (const test::LayerCase &layer : getCpuLayerCases())
    if (layer.name == variant.layer)
      spec = layer.spec;
  spec.dtype = variant.dtype;
  CpuCodegenOptions options{variant.isa, variant.tile, variant.workers};
  std::shared_ptr<const CompiledCpuLayer> layer =
      getJit().getCpuLayer(spec, options);
  const KernelPlan &plan = layer->plan;
  ASSERT_EQ(plan.device, Device::cpu);
  const int64_t cout = spec.weightShape[0];
  test::checkLayerPlan(
      spec, plan, getKeptBucket(spec.getNumKept(), cout, 32),
      [&](Buffers &buffers) { runLayer(*layer, buffers, variant.workers); },
      {[&](int64_t) { return relativeTolerance(spec.dtype); },
       relativeTolerance(spec.dtype)},
      variant.workers);
}

std::vector<Variant> getVariants() {
  const CpuTileConfig base = getDefaultCpuTileConfig();
  std::vector<Variant> variants;
  for (const test::LayerCase &layer : getCpuLayerCases())
    variants.push_back({layer.name, ElementType::f32, base, Isa::avx2, 1});
  for (const CpuTileConfig &tile : getCpuTileConfigs(Isa::avx2)) {
    if (tile == base)
      continue;
    for (const char *layer :
         {"stride2_pad1", "wide_k72", "groups3", "small_planes_batch8",
          "pointwise_stride2_24x24"})
      variants.push_back({layer, ElementType::f32, tile, Isa::avx2, 1});
  }
  for (const char *layer : {"conv3x3_pad1", "groups3", "stride2_wide_rows",
                            "random", "weight_only"})
    variants.push_back({layer, ElementType::bf16, base, Isa::avx2, 1});
  for (const CpuTileConfig &tile : getCpuTileConfigs(Isa::avx512))
    for (const char *layer : {"conv3x3_pad1", "stride2_wide_rows", "depthwise"})
      variants.push_back({layer, ElementType::f32, tile, Isa::avx512, 1});
  for (const char *layer :
       {"conv3x3_pad1", "groups3", "wide_k72", "batch1", "dense_keep1"})
    variants.push_back({layer, ElementType::f32, base, Isa::avx2, 2});
  return variants;
}

std::string variantName(const ::testing::TestParamInfo<Variant> &info) {
  std::ostringstream os;
  os << info.param;
  std::string name = os.str();
  for (char &c : name)
    if (!isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Layers, CpuKernels, ::testing::ValuesIn(getVariants()),
                         variantName);

/// The kept list of `spec`'s CPU plan on random arguments (f32) edited by
/// `adjust`, with the random selection's seed.
std::vector<int> runAndReadKept(
    const ConvLayerSpec &spec, uint64_t seed,
    const std::function<void(int, float *, int64_t)> &adjust = nullptr) {
  std::shared_ptr<const CompiledCpuLayer> layer =
      getJit().getCpuLayer(spec, CpuCodegenOptions());
  return test::runAndReadKept(
      layer->plan, spec.getNumKept(),
      [&](Buffers &buffers) { runLayer(*layer, buffers, 1, seed); }, adjust);
}

/// The kept list of a top-k run (seed 0, unused).
std::vector<int>
readTopKKept(const ConvLayerSpec &spec,
             const std::function<void(int, float *, int64_t)> &adjust) {
  return runAndReadKept(spec, 0, adjust);
}

class CpuSelection : public ::testing::Test {
protected:
  void SetUp() override {
    if (!getJit().getCpuTarget())
      GTEST_SKIP() << "this CPU has no AVX2 and FMA: no CPU kernels";
  }
};

TEST_F(CpuSelection, TiesKeepExactlyKLowestChannels) {
  test::expectTiesKeepTheLowestChannels(readTopKKept);
}

TEST_F(CpuSelection, NaNAndInfinityGiveAValidDeterministicSelection) {
  test::expectNaNAndInfinityGiveAValidSelection(readTopKKept);
}

/// The random selection keeps the channels with the k largest keys of
/// RandomKey.h for the seed the caller draws.
TEST_F(CpuSelection, RandomSelectionKeepsTheLargestKeysOfTheSeed) {
  ConvLayerSpec spec = test::makeSpec({1, 4, 4, 4}, {64, 4, 1, 1}, 0.25);
  spec.select = Select::random;
  for (uint64_t seed : {1ull, 2ull, 0x123456789abcdefull}) {
    std::vector<int> order(64);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return getRandomKey(seed, a) > getRandomKey(seed, b);
    });
    std::vector<int> expected(order.begin(), order.begin() + 16);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(runAndReadKept(spec, seed), expected) << "seed " << seed;
  }
}

} // namespace
