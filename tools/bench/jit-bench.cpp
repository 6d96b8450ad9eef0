//===- jit-bench.cpp - how fast the JIT compiles, loads and hits ----------===//
//
// For every kernel of a network file (default: ResNet-50's convolutions):
// the NVRTC compile time (cold), the time to load the entry from a warm disk
// cache, and the time of a memory hit, as medians, in one run. Also NVRTC
// compile times under candidate options, to justify the ones ssprop uses.
//
//   ssprop-jit-bench [FILE.mlir] [--arch sm_90]
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/LayerResolver.h"
#include "ssprop/Runtime/Nvrtc.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <unistd.h>

using namespace ssprop;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double percentile90(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() * 9 / 10];
}

std::vector<KernelSource> collectKernels(const std::string &path,
                                         const CodegenOptions &options) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ModuleCompileResult result = compileModule(text.str(), options);
  if (!result.ok())
    throw std::runtime_error(result.error);
  std::map<std::string, KernelSource> unique;
  for (const auto &[name, plan] : result.plans)
    for (const KernelSource &kernel : plan.kernels)
      unique.emplace(kernel.name, kernel);
  std::vector<KernelSource> kernels;
  for (auto &[name, kernel] : unique)
    kernels.push_back(kernel);
  return kernels;
}

} // namespace

int main(int argc, char **argv) {
  std::string file = SSPROP_SOURCE_DIR "/examples/resnet50_backward.mlir";
  CodegenOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--arch" && i + 1 < argc)
      options.arch = parseArch(argv[++i]).value_or(Arch::sm90);
    else
      file = arg;
  }
  auto start = Clock::now();
  std::vector<KernelSource> kernels = collectKernels(file, options);
  double compilerMs = millisecondsSince(start);
  fs::path dir = fs::temp_directory_path() /
                 ("ssprop-jit-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  KernelCache::Options cacheOptions;
  cacheOptions.directory = dir.string();

  std::vector<double> cold, warm, hit;
  {
    KernelCache cache(cacheOptions);
    for (const KernelSource &kernel : kernels) {
      auto t = Clock::now();
      cache.getCubin(kernel, options.arch);
      cold.push_back(millisecondsSince(t));
    }
  }
  KernelCache cache(cacheOptions);
  for (const KernelSource &kernel : kernels) {
    auto t = Clock::now();
    cache.getCubin(kernel, options.arch);
    warm.push_back(millisecondsSince(t));
  }
  for (const KernelSource &kernel : kernels) {
    auto t = Clock::now();
    cache.getCubin(kernel, options.arch);
    hit.push_back(millisecondsSince(t));
  }
  // The launch path's hit: a layer already compiled, looked up by its key.
  Jit jit(cacheOptions, compileConvBackward);
  ConvLayerSpec layer;
  layer.inputShape = {128, 256, 14, 14};
  layer.weightShape = {256, 256, 3, 3};
  layer.padding = {1, 1};
  layer.keep = 0.4;
  jit.getLayer(layer, options);
  constexpr int kLookups = 100000;
  auto t = Clock::now();
  for (int i = 0; i < kLookups; ++i)
    jit.getLayer(layer, options);
  double layerHitUs = millisecondsSince(t) * 1000 / kLookups;
  // The backward's hot path: a layer resolved once (tactic and kernels),
  // looked up by its spec. Timing is faked (no GPU): the default tile wins.
  TacticSelector selector("", DeviceIdentity{"bench", 90, 0, 0, 0});
  LayerResolver resolver(jit, selector);
  LayerTarget target;
  target.options = options;
  const LayerResolver::Probe fakeTimer([](const ResolvedLayer &candidate) {
    return candidate.tactic == Tactic::generated(getDefaultTileConfig()) ? 1.0
                                                                         : 2.0;
  });
  resolver.resolve(layer, target, fakeTimer);
  t = Clock::now();
  for (int i = 0; i < kLookups; ++i)
    resolver.resolve(layer, target, fakeTimer);
  double resolveHitUs = millisecondsSince(t) * 1000 / kLookups;

  std::cout << "kernels: " << kernels.size() << " distinct, from " << file
            << " (" << getArchName(options.arch) << ")\n"
            << "compiler (parse, lower, emit) for the whole file: "
            << compilerMs << " ms\n"
            << "NVRTC compile per kernel (cold): median " << median(cold)
            << " ms, p90 " << percentile90(cold) << " ms\n"
            << "disk-cache load per kernel (warm): median " << median(warm)
            << " ms\n"
            << "memory hit per kernel (key = SHA-256 of the source): median "
            << median(hit) * 1000 << " us\n"
            << "layer hit (Jit::getLayer by string key): " << layerHitUs
            << " us\n"
            << "resolved layer hit (the backward's hot path): " << resolveHitUs
            << " us\n";

  // Candidate NVRTC options on a sample of the kernels.
  std::vector<std::pair<std::string, std::vector<std::string>>> candidates = {
      {"ssprop's options", {}},
      {"+ -Xptxas -O1", {"--ptxas-options=-O1"}},
      {"+ -G0 -lineinfo", {"-lineinfo"}},
      {"+ --extra-device-vectorization", {"--extra-device-vectorization"}},
      {"+ -pch (automatic precompiled headers)", {"-pch"}},
  };
  std::vector<KernelSource> sample(kernels.begin(),
                                   kernels.begin() +
                                       std::min<size_t>(kernels.size(), 12));
  std::cout << "\nNVRTC options on " << sample.size()
            << " kernels (median compile ms):\n";
  for (const auto &[label, extra] : candidates) {
    std::vector<double> times;
    for (const KernelSource &kernel : sample) {
      auto t0 = Clock::now();
      try {
        compileWithNvrtc(kernel, options.arch, extra);
        times.push_back(millisecondsSince(t0));
      } catch (const NvrtcError &error) {
        std::cout << "  " << label << ": rejected (" << error.what() << ")\n";
        break;
      }
    }
    if (times.size() == sample.size())
      std::cout << "  " << label << ": " << median(times) << "\n";
  }
  fs::remove_all(dir);
  return 0;
}
