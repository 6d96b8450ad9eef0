//===- EmulationTest.cpp - generated kernels, run on the host -------------===//
//
// Compiles the very CUDA sources the emitter produces as host C++ (with
// HostEmulation/HostEmulation.h force-included), runs each layer's kernel
// plan on random data and compares every gradient with the naive double
// precision reference of Reference.h.
//
//===----------------------------------------------------------------------===//

#include "EmulatedLaunch.h"
#include "LayerCases.h"
#include "ParamName.h"
#include "PlanTest.h"

#include "ssprop/Runtime/PackedParams.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

using namespace ssprop;
using ssprop::test::Buffers;
using ssprop::test::checkLayerPlan;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Compiling a plan's kernels into a shared object
//===----------------------------------------------------------------------===//

uint64_t fnv1a(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

/// The emulation headers' text: the cached libraries depend on it too.
const std::string &getEmulationHeaders() {
  static const std::string text = [] {
    std::string all;
    for (const char *name : {"HostEmulation.h", "HostEmulationPtx.h"}) {
      std::ifstream in(std::string(SSPROP_HOST_EMULATION_SOURCE_DIR "/") +
                       name);
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }();
  return text;
}

/// All kernels of `plan` in one translation unit (each source's prelude is
/// guarded, so they concatenate), each followed by its host entry
/// `<name>_host`, compiled once per distinct text (and emulation headers)
/// into the build tree's cache and loaded.
class HostKernels {
public:
  explicit HostKernels(const KernelPlan &plan) {
    std::string unit;
    for (const KernelSource &kernel : plan.kernels)
      unit += kernel.code + "SSPROP_EMU_HOST_ENTRY(" + kernel.name + ")\n";
    fs::path dir = SSPROP_EMULATION_CACHE_DIR;
    fs::create_directories(dir);
    std::ostringstream stem;
    stem << std::hex << fnv1a(unit + getEmulationHeaders());
    fs::path library = dir / (stem.str() + ".so");
    if (!fs::exists(library))
      compile(unit, dir / (stem.str() + ".cpp"), library);
    handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      throw std::runtime_error(std::string("dlopen: ") + dlerror());
    for (const KernelSource &kernel : plan.kernels) {
      void *entry = dlsym(handle, (kernel.name + "_host").c_str());
      if (!entry)
        throw std::runtime_error("no host entry for " + kernel.name);
      entries.push_back(reinterpret_cast<void (*)(void **)>(entry));
    }
  }
  ~HostKernels() {
    if (handle)
      dlclose(handle);
  }
  std::vector<void (*)(void **)> entries;

private:
  static void compile(const std::string &unit, const fs::path &source,
                      const fs::path &library) {
    std::ofstream(source) << unit;
    fs::path temporary = library.string() + ".tmp" + std::to_string(getpid());
    std::string command = std::string(SSPROP_HOST_CXX) +
                          " -std=c++17 -O1 -fPIC -shared -w "
                          "-include " SSPROP_HOST_EMULATION_SOURCE_DIR
                          "/HostEmulation.h " +
                          source.string() + " -o " + temporary.string() +
                          " " SSPROP_HOST_EMULATION_LIB
                          " -Wl,-rpath," SSPROP_HOST_EMULATION_DIR " 2>&1";
    if (std::system(command.c_str()) != 0)
      throw std::runtime_error("host compile failed: " + command);
    fs::rename(temporary, library); // a reader never sees a partial library
  }
  void *handle = nullptr;
};

//===----------------------------------------------------------------------===//
// Running a plan
//===----------------------------------------------------------------------===//

void runPlan(const KernelPlan &plan, const HostKernels &kernels,
             Buffers &buffers, uint64_t seedBase) {
  std::vector<void *> pointers = buffers.getPointers();
  std::vector<uint64_t> seeds;
  for (int i = 0; i < plan.numSeeds; ++i)
    seeds.push_back(seedBase + i);
  for (const KernelLaunch &launch : plan.launches) {
    PackedParams params(launch, pointers, seeds);
    test::launchEmulated(kernels.entries[launch.kernel], launch.grid,
                         launch.block, params.get());
    int overrun = buffers.findOverrun();
    ASSERT_EQ(overrun, -1) << plan.kernels[launch.kernel].name
                           << " wrote past the end of buffer %" << overrun;
  }
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

struct Variant {
  std::string layer;
  ElementType dtype;
  TileConfig tile;
  int splitK;
};

/// E.g. `conv3x3_pad1/f16/tc64x64_w4s4/splitk0`: failure messages and test
/// names.
std::ostream &operator<<(std::ostream &os, const Variant &v) {
  return os << v.layer << "/" << getElementTypeName(v.dtype) << "/"
            << v.tile.getName() << "/splitk" << v.splitK;
}

/// The tolerance relative to the largest reference magnitude for a GEMM
/// result reduced over `length` products: f32 to 1e-5; f16/bf16 a few units
/// in the last place of the result format. Tensor cores read f16/bf16
/// operands exactly and multiply exactly into f32, so only TF32 adds error:
/// both factors rounded to 11 significant bits, 2^-10 of each product. Those
/// errors add up to at most length * 2^-10 * max|ab|, the largest result is
/// of order sqrt(length) * max|ab| (random signs): 2^-10 * sqrt(length).
double relativeTolerance(ElementType type, const TileConfig &tile,
                         int64_t length) {
  double tf32 = type == ElementType::f32 && tile.kind == TileKind::tensorCore
                    ? std::ldexp(1.0, -10) * std::sqrt(double(length))
                    : 0.0;
  switch (type) {
  case ElementType::f16:
    return 1e-3; // 2^-11 rounding of the result, plus f32 accumulation
  case ElementType::bf16:
    return 8e-3; // 2^-8 rounding of the result
  default:
    return 1e-5 + tf32;
  }
}

class Emulation : public ::testing::TestWithParam<Variant> {};

TEST_P(Emulation, MatchesReference) {
  const Variant &variant = GetParam();
  ConvLayerSpec spec;
  for (const test::LayerCase &layer : test::getLayerCases())
    if (layer.name == variant.layer)
      spec = layer.spec;
  spec.dtype = variant.dtype;
  CodegenOptions options;
  options.dgradTile = options.wgradTile = variant.tile;
  options.wgradSplitK = variant.splitK;
  CompileResult compiled = compileConvBackward(spec, options);
  ASSERT_TRUE(compiled.ok()) << compiled.error;
  const KernelPlan &plan = compiled.plan;
  HostKernels kernels(plan);

  checkLayerPlan(
      spec, plan, spec.getNumKept(),
      [&](Buffers &buffers) { runPlan(plan, kernels, buffers, 1234); },
      {[&](int64_t length) {
         return relativeTolerance(spec.dtype, variant.tile, length);
       },
       relativeTolerance(spec.dtype, getSimtTileConfigs()[0], 1)});
}

std::vector<Variant> getVariants() {
  std::vector<Variant> variants;
  const TileConfig base = getSimtTileConfigs().front();
  for (const test::LayerCase &layer : test::getLayerCases())
    variants.push_back({layer.name, ElementType::f32, base, 0});
  for (const TileConfig &tile : getSimtTileConfigs()) {
    if (tile == base)
      continue;
    variants.push_back({"stride2_pad1", ElementType::f32, tile, 0});
    variants.push_back({"wide_k72", ElementType::f32, tile, 0});
  }
  for (ElementType type : {ElementType::f16, ElementType::bf16})
    for (const char *layer : {"conv3x3_pad1", "groups3", "random"})
      variants.push_back({layer, type, base, 0});
  // Split-K partials summed by the scatter, dense and gathered.
  variants.push_back({"wide_k72", ElementType::f32, base, 3});
  variants.push_back({"dense_keep1", ElementType::f32, base, 2});
  // Tensor cores: every tile on every layer in each element type (their
  // fragment and pipeline index arithmetic differs per tile).
  for (ElementType type :
       {ElementType::f32, ElementType::f16, ElementType::bf16})
    for (const TileConfig &tile : getTensorCoreTileConfigs())
      for (const test::LayerCase &layer : test::getLayerCases())
        variants.push_back({layer.name, type, tile, 0});
  variants.push_back(
      {"wide_k72", ElementType::bf16, getDefaultTileConfig(), 3});
  return variants;
}

INSTANTIATE_TEST_SUITE_P(Layers, Emulation, ::testing::ValuesIn(getVariants()),
                         test::PrintedParamName());

/// Runs `spec`'s plan (f32) on random arguments, after `adjust(index, data)`
/// edits argument `index`, and returns the kept list.
std::vector<int> runAndReadKept(
    const ConvLayerSpec &spec, uint64_t seed,
    const std::function<void(int, float *, int64_t)> &adjust = nullptr) {
  CompileResult compiled = compileConvBackward(spec, CodegenOptions());
  EXPECT_TRUE(compiled.ok()) << compiled.error;
  const KernelPlan &plan = compiled.plan;
  HostKernels kernels(plan);
  return test::runAndReadKept(
      plan, spec.getNumKept(),
      [&](Buffers &buffers) { runPlan(plan, kernels, buffers, seed); }, adjust);
}

/// The kept list of a top-k run (seed 0, unused).
std::vector<int>
readTopKKept(const ConvLayerSpec &spec,
             const std::function<void(int, float *, int64_t)> &adjust) {
  return runAndReadKept(spec, 0, adjust);
}

TEST(EmulationTopK, TiesKeepExactlyKLowestChannels) {
  test::expectTiesKeepTheLowestChannels(readTopKKept);
}

TEST(EmulationTopK, NaNAndInfinityGiveAValidDeterministicSelection) {
  test::expectNaNAndInfinityGiveAValidSelection(readTopKKept);
}

/// The random selection is a function of the seed the caller draws.
TEST(EmulationRandom, SelectionFollowsTheSeed) {
  ConvLayerSpec spec = test::makeSpec({1, 4, 4, 4}, {64, 4, 1, 1}, 0.25);
  spec.select = Select::random;
  std::vector<int> first = runAndReadKept(spec, 1);
  std::vector<int> again = runAndReadKept(spec, 1);
  std::vector<int> other = runAndReadKept(spec, 2);
  EXPECT_EQ(first.size(), 16u);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_EQ(std::set<int>(first.begin(), first.end()).size(), first.size());
}

} // namespace
