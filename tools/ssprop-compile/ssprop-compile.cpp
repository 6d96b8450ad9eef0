//===- ssprop-compile.cpp - fill the kernel cache ahead of time -----------===//
//
// Compiles the kernels of convolution layers into the on-disk cache, like
// TensorRT's trtexec building an engine, without needing a GPU: name the arch.
//
//   ssprop-compile --input-shape 128,64,56,56 --weight-shape 64,64,3,3 \
//       --padding 1,1 --keep 0.4 --arch sm_90
//   ssprop-compile examples/resnet50_backward.mlir --arch sm_90
//
// Prints one JSON object: kernels, compiled, memory_hits, disk_hits,
// compile_ms.
//
// With --plan, it builds the engine of one network's IR (as
// ssprop.export_ir writes it) on this machine's CPU or GPU: every layer's
// kernels compiled, verified and timed (ssprop/Torch/Engine.h), the choices
// in the timing cache and the plan at PATH; it prints the engine's summary.
//
//   ssprop-compile --plan resnet18.plan.json examples/resnet18_backward.mlir
//
//===----------------------------------------------------------------------===//

#include "ssprop/Core/Version.h"
#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Nvrtc.h"
#include "ssprop/Torch/Engine.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace ssprop;

namespace {

/// A command-line mistake: printed with the usage hint, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char *const kUsage =
    "usage: ssprop-compile [FILE.mlir ...] [--input-shape N,C,H,W "
    "--weight-shape COUT,CIN/G,KH,KW]\n"
    "         [--stride S,S] [--padding P,P] [--dilation D,D] [--groups G]\n"
    "         [--keep K] [--select topk|random] [--weight-only] "
    "[--no-input-grad]\n"
    "         [--dtype f32|f16|bf16] [--arch sm_80|sm_90] [--tile NAME]\n"
    "         [--dgrad-tile NAME] [--wgrad-tile NAME] [--split-k N] "
    "[--cache-dir DIR]\n"
    "       ssprop-compile --plan PATH FILE.mlir [--device cpu|cuda[:N]] "
    "[--threads N]\n"
    "         [--cache-dir DIR]\n"
    "       ssprop-compile --version | --help\n";

template <size_t N>
std::array<int64_t, N> parseList(const std::string &flag,
                                 const std::string &text, int64_t minimum) {
  std::array<int64_t, N> values{};
  std::stringstream in(text);
  std::string item;
  size_t count = 0;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (used == 0 || used != item.size() || count >= N || value < minimum)
      throw UsageError(flag + " expects " + std::to_string(N) +
                       " comma-separated integers >= " +
                       std::to_string(minimum) + ", got '" + text + "'");
    values[count++] = value;
  }
  if (count != N)
    throw UsageError(flag + " expects " + std::to_string(N) +
                     " comma-separated integers >= " +
                     std::to_string(minimum) + ", got '" + text + "'");
  return values;
}

TileConfig parseTile(const std::string &flag, const std::string &text) {
  if (std::optional<TileConfig> tile = parseTileConfig(text))
    return *tile;
  std::string known;
  for (const TileConfig &config : getSimtTileConfigs())
    known += (known.empty() ? "" : ", ") + config.getName();
  throw UsageError(flag + " expects one of " + known + ", got '" + text + "'");
}

struct Request {
  std::vector<std::string> files;
  bool haveLayer = false, haveInput = false, haveWeight = false;
  ConvLayerSpec layer;
  CodegenOptions options;
  std::string cacheDir;
  std::string planPath; ///< --plan: build the engine
  std::string device = "cpu";
  int threads = 0; ///< 0: LibTorch's default
};

Request parseArguments(int argc, char **argv) {
  Request request;
  auto value = [&](int &i, const std::string &flag) -> std::string {
    if (i + 1 >= argc)
      throw UsageError(flag + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << ssprop::versionLine() << "\n";
      std::exit(0);
    } else if (arg == "--input-shape") {
      request.layer.inputShape = parseList<4>(arg, value(i, arg), 1);
      request.haveInput = true;
    } else if (arg == "--weight-shape") {
      request.layer.weightShape = parseList<4>(arg, value(i, arg), 1);
      request.haveWeight = true;
    } else if (arg == "--stride") {
      request.layer.stride = parseList<2>(arg, value(i, arg), 1);
    } else if (arg == "--padding") {
      request.layer.padding = parseList<2>(arg, value(i, arg), 0);
    } else if (arg == "--dilation") {
      request.layer.dilation = parseList<2>(arg, value(i, arg), 1);
    } else if (arg == "--groups") {
      request.layer.groups = parseList<1>(arg, value(i, arg), 1)[0];
    } else if (arg == "--keep") {
      std::string text = value(i, arg);
      char *end = nullptr;
      double keep = std::strtod(text.c_str(), &end);
      if (text.empty() || *end || !std::isfinite(keep) || keep <= 0 || keep > 1)
        throw UsageError("--keep expects a number in (0, 1], got '" + text +
                         "'");
      request.layer.keep = keep;
    } else if (arg == "--select") {
      std::string text = value(i, arg);
      std::optional<Select> select = parseSelect(text);
      if (!select)
        throw UsageError("--select expects topk or random, got '" + text + "'");
      request.layer.select = *select;
    } else if (arg == "--weight-only") {
      request.layer.weightOnly = true;
    } else if (arg == "--no-input-grad") {
      request.layer.needInputGrad = false;
    } else if (arg == "--dtype") {
      std::string text = value(i, arg);
      if (text == "f32")
        request.layer.dtype = ElementType::f32;
      else if (text == "f16")
        request.layer.dtype = ElementType::f16;
      else if (text == "bf16")
        request.layer.dtype = ElementType::bf16;
      else
        throw UsageError("--dtype expects f32, f16 or bf16, got '" + text + "'");
    } else if (arg == "--arch") {
      std::string text = value(i, arg);
      std::optional<Arch> arch = parseArch(text);
      if (!arch)
        throw UsageError("--arch expects sm_80 or sm_90, got '" + text + "'");
      request.options.arch = *arch;
    } else if (arg == "--tile") {
      request.options.dgradTile = request.options.wgradTile =
          parseTile(arg, value(i, arg));
    } else if (arg == "--dgrad-tile") {
      request.options.dgradTile = parseTile(arg, value(i, arg));
    } else if (arg == "--wgrad-tile") {
      request.options.wgradTile = parseTile(arg, value(i, arg));
    } else if (arg == "--split-k") {
      request.options.wgradSplitK =
          static_cast<int>(parseList<1>(arg, value(i, arg), 0)[0]);
    } else if (arg == "--cache-dir") {
      request.cacheDir = value(i, arg);
    } else if (arg == "--plan") {
      request.planPath = value(i, arg);
    } else if (arg == "--device") {
      request.device = value(i, arg);
    } else if (arg == "--threads") {
      request.threads =
          static_cast<int>(parseList<1>(arg, value(i, arg), 1)[0]);
    } else if (arg.rfind("--", 0) == 0) {
      throw UsageError("unknown option " + arg);
    } else {
      request.files.push_back(arg);
    }
  }
  if (request.haveInput != request.haveWeight)
    throw UsageError("--input-shape and --weight-shape go together");
  if (!request.planPath.empty() &&
      (request.files.size() != 1 || request.haveInput))
    throw UsageError("--plan builds the engine of one .mlir file");
  request.haveLayer = request.haveInput;
  if (!request.haveLayer && request.files.empty())
    throw UsageError("nothing to compile: give --input-shape and "
                     "--weight-shape, or .mlir files");
  return request;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// --device's value; "cuda" is the current GPU.
c10::Device parseDevice(const std::string &text) {
  try {
    c10::Device device(text);
    if (device.is_cpu() || device.is_cuda())
      return device;
  } catch (const std::exception &) {
  }
  throw UsageError("--device expects cpu, cuda or cuda:N, got '" + text + "'");
}

/// --plan: the engine of the network in `file`.
int buildPlan(const Request &request) {
  const c10::Device device = parseDevice(request.device);
  if (request.threads > 0)
    at::set_num_threads(request.threads);
  const std::string &file = request.files.front();
  NetworkReadResult network = readNetworkLayers(readFile(file));
  if (!network.ok())
    throw std::runtime_error("cannot read " + file + ":\n" + network.error);
  EngineOptions options;
  options.planPath = request.planPath;
  options.device = device;
  const size_t slash = file.find_last_of('/');
  options.name = file.substr(slash == std::string::npos ? 0 : slash + 1);
  options.name = options.name.substr(0, options.name.find('.'));
  EngineSummary summary = buildEngine(network.layers, options);
  std::cerr << summary.format() << "\n";
  std::cout << summary.toJson() << "\n";
  return 0;
}

/// Compiles every kernel of `plan` into the cache; returns their names.
void compilePlan(KernelCache &cache, const KernelPlan &plan, Arch arch,
                 std::set<std::string> &kernels) {
  for (const KernelSource &kernel : plan.kernels) {
    cache.getCubin(kernel, arch);
    kernels.insert(kernel.name);
  }
}

} // namespace

int main(int argc, char **argv) {
  try {
    Request request = parseArguments(argc, argv);
    if (!request.cacheDir.empty()) // the engine's JIT reads it too
      ::setenv("SSPROP_CACHE_DIR", request.cacheDir.c_str(), 1);
    if (!request.planPath.empty())
      return buildPlan(request);
    KernelCache cache(KernelCache::getOptionsFromEnvironment());
    std::set<std::string> kernels;
    if (request.haveLayer) {
      CompileResult result = compileConvBackward(request.layer, request.options);
      if (!result.ok())
        throw std::runtime_error("cannot compile the layer:\n" + result.error);
      compilePlan(cache, result.plan, request.options.arch, kernels);
    }
    for (const std::string &file : request.files) {
      ModuleCompileResult result =
          compileModule(readFile(file), request.options);
      if (!result.ok())
        throw std::runtime_error("cannot compile " + file + ":\n" +
                                 result.error);
      for (const auto &[name, plan] : result.plans)
        compilePlan(cache, plan, request.options.arch, kernels);
    }
    CacheStats stats = cache.getStats();
    std::cout << "{\"kernels\": " << kernels.size()
              << ", \"compiled\": " << stats.compiles
              << ", \"memory_hits\": " << stats.memoryHits
              << ", \"disk_hits\": " << stats.diskHits
              << ", \"compile_ms\": " << stats.compileMs << "}\n";
    return 0;
  } catch (const UsageError &error) {
    std::cerr << "ssprop-compile: " << error.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception &error) {
    std::cerr << "ssprop-compile: " << error.what() << "\n";
    return 1;
  }
}
