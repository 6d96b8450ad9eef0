//===- Engine.cpp - build a network's kernels and tactics ahead -----------===//
//
// The plan file is JSON:
//   {"ssprop_plan": 1, "version": ..., "model": ..., "device": ...,
//    "threads": ..., "layers": [{"name", "keep", "k", "channels", "key",
//    "tactic", "kernels", "ms"}, ...], "summary": {...}}
// written whole (AtomicFile.h), and only over a plan.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Core/Version.h"
#include "ssprop/Runtime/AtomicFile.h"
#include "ssprop/Runtime/KernelCache.h"
#include "ssprop/Runtime/LayerResolver.h"
#include "ssprop/Runtime/TrustedFiles.h"
#include "ssprop/Torch/Engine.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

namespace ssprop {
namespace torch_bridge {

PreparedLayer describeResolved(const LayerResolver &resolver,
                               const ConvLayerSpec &spec,
                               const LayerTarget &target,
                               const ResolvedLayer &layer) {
  PreparedLayer prepared{getTacticKey(spec, target), layer.tactic, {},
                         resolver.getMilliseconds(spec, target, layer.tactic)};
  const KernelPlan *plan = layer.cpuKernels ? &layer.cpuKernels->plan
                           : layer.kernels  ? &layer.kernels->plan
                                            : nullptr;
  if (plan)
    for (const KernelSource &kernel : plan->kernels)
      prepared.kernels.push_back(kernel.name);
  return prepared;
}

ConvBackwardArgs makeRandomConvArgs(const ConvLayerSpec &spec, bool hasBias,
                                    std::array<bool, 3> outputMask,
                                    const c10::Device &device) {
  ConvBackwardArgs args;
  args.spec = spec;
  args.hasBias = hasBias;
  args.outputMask = outputMask;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  const at::ScalarType type = getScalarType(spec.dtype);
  auto random = [&](std::vector<int64_t> shape) {
    return at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat))
        .to(device, type);
  };
  const auto &x = spec.inputShape, &w = spec.weightShape;
  args.input = random({x.begin(), x.end()});
  args.weight = random({w.begin(), w.end()});
  args.gradOutput =
      random({x[0], w[0], spec.getOutputSize(0), spec.getOutputSize(1)});
  return args;
}

namespace {

/// A probe that owns its tensors (`random`, from makeRandomConvArgs), for
/// the background JIT's thread (on their device; on a GPU, that thread's
/// current stream). Nothing it runs draws from the framework's generator,
/// which training uses meanwhile: generated candidates take the timing seed,
/// the others are timed as top-k.
LayerResolver::Probe detachedProbe(ConvBackwardArgs random,
                                   CandidateTimer time,
                                   CandidateVerifier verify) {
  auto args = std::make_shared<const ConvBackwardArgs>(std::move(random));
  auto topk = std::make_shared<ConvBackwardArgs>(*args);
  topk->spec.select = Select::topk;
  return {[args, topk, time](const ResolvedLayer &candidate) {
            const c10::DeviceGuard onDevice(args->input.device());
            const bool generated =
                candidate.tactic.kind == TacticKind::generated;
            return time(candidate, generated ? *args : *topk,
                        /*restoreGenerator=*/false);
          },
          [args, verify](const ResolvedLayer &candidate) {
            const c10::DeviceGuard onDevice(args->input.device());
            return verify(candidate, *args);
          }};
}

} // namespace

LayerResolver::Probe makeProbe(const ConvBackwardArgs &args,
                               CandidateTimer time, CandidateVerifier verify) {
  // The detached probe outlives the call: it copies what it needs, not args.
  return {[&args, time](const ResolvedLayer &candidate) {
            return time(candidate, args, /*restoreGenerator=*/true);
          },
          [&args, verify](const ResolvedLayer &candidate) {
            return verify(candidate, args);
          },
          [spec = args.spec, hasBias = args.hasBias, mask = args.outputMask,
           device = args.input.device(), time, verify] {
            return detachedProbe(
                makeRandomConvArgs(spec, hasBias, mask, device), time, verify);
          }};
}

} // namespace torch_bridge

namespace {

using torch_bridge::ConvBackwardArgs;
using torch_bridge::PreparedLayer;

/// How every plan starts: what marks a file as one we may replace.
constexpr const char *kPlanStart = "{\n  \"ssprop_plan\": 1,";

std::string jsonString(const std::string &text) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\')
      out << '\\' << c;
    else if (c < 0x20)
      out << "\\u" << std::hex << std::setw(4) << std::setfill('0')
          << static_cast<int>(c) << std::dec;
    else
      out << c;
  }
  out << '"';
  return out.str();
}

/// The plan's path, checked before any work: the default one in a private
/// folder of the cache; a given one in an existing folder, and not a file
/// other than a plan (nor a link).
std::string choosePlanPath(const EngineOptions &options) {
  std::string path = options.planPath;
  if (path.empty()) {
    // The name becomes a file name: it must stay in the plans folder.
    if (!isIdentifier(options.name))
      throw std::runtime_error(
          "ssprop: the plan's name must be an MLIR identifier (letters, "
          "digits, _ $ .), got '" + options.name + "'; or give the plan's path");
    std::string why;
    std::optional<std::string> root = choosePrivateDirectory(
        KernelCache::getOptionsFromEnvironment().directory, &why);
    if (root && (why = makePrivateDirectory(*root + "/plans")).empty())
      return *root + "/plans/" + options.name + ".json";
    throw std::runtime_error("ssprop: no folder for the plan (" + why +
                             "); give its path");
  }
  struct stat info;
  if (::lstat(path.c_str(), &info) == 0) {
    std::string why;
    std::optional<std::string> text =
        readTrustedFile(path, int64_t(256) << 20, &why);
    if (!text || text->rfind(kPlanStart, 0) != 0)
      throw std::runtime_error("ssprop: " + path +
                               " exists and is not an ssprop plan of yours; "
                               "not replacing it");
    return path;
  }
  const size_t slash = path.find_last_of('/');
  const std::string folder =
      slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  if (::access(folder.c_str(), W_OK) != 0)
    throw std::runtime_error("ssprop: cannot write the plan " + path +
                             ": its folder " + folder +
                             " does not exist or is not writable");
  return path;
}

ConvBackwardArgs makeArgs(const ExportedLayer &layer, double keep,
                          const c10::Device &device) {
  ConvLayerSpec spec = layer.spec;
  spec.keep = keep;
  return torch_bridge::makeRandomConvArgs(
      spec, layer.hasBias, {spec.needInputGrad, true, layer.hasBias}, device);
}

/// A progress bar on stderr: redrawn in place on a terminal, a line per
/// step elsewhere (logs).
class Progress {
public:
  Progress(bool enabled, int64_t total)
      : enabled(enabled), total(total), terminal(::isatty(STDERR_FILENO)) {}

  void step(int64_t done, const std::string &what) {
    if (!enabled)
      return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / std::max<int64_t>(total, 1));
    std::cerr << (terminal ? "\r\033[K" : "") << "ssprop: building ["
              << std::string(filled, '#') << std::string(kWidth - filled, '.')
              << "] " << done << "/" << total << " " << what
              << (terminal ? "" : "\n") << std::flush;
  }

  void finish() {
    if (enabled && terminal)
      std::cerr << "\n";
  }

private:
  bool enabled;
  int64_t total;
  bool terminal;
};

std::string formatPlan(const EngineOptions &options,
                       const std::vector<std::string> &entries,
                       const EngineSummary &summary) {
  std::ostringstream out;
  out << kPlanStart << "\n  \"version\": " << jsonString(versionLine())
      << ",\n  \"model\": " << jsonString(options.name)
      << ",\n  \"device\": " << jsonString(options.device.str())
      << ",\n  \"threads\": " << at::get_num_threads()
      << ",\n  \"layers\": [";
  for (size_t i = 0; i < entries.size(); ++i)
    out << (i ? "," : "") << "\n    " << entries[i];
  out << "\n  ],\n  \"summary\": " << summary.toJson() << "\n}\n";
  return out.str();
}

std::string formatEntry(const ExportedLayer &layer, double keep,
                        const PreparedLayer &prepared) {
  std::ostringstream out;
  out << "{\"name\": " << jsonString(layer.name)
      << ", \"keep\": " << formatKeep(keep)
      << ", \"k\": " << keptChannels(keep, layer.spec.weightShape[0])
      << ", \"channels\": " << layer.spec.weightShape[0]
      << ", \"key\": " << jsonString(prepared.key)
      << ", \"tactic\": " << jsonString(prepared.tactic.getName())
      << ", \"kernels\": [";
  for (size_t i = 0; i < prepared.kernels.size(); ++i)
    out << (i ? ", " : "") << jsonString(prepared.kernels[i]);
  out << "], \"ms\": ";
  if (prepared.ms)
    out << *prepared.ms;
  else
    out << "null";
  out << "}";
  return out.str();
}

} // namespace

std::string EngineSummary::format() const {
  std::ostringstream out;
  out << "ssprop: engine of " << layers << " layers (" << variants
      << " layer-k variants): " << kernels << " kernels, " << compiled
      << " compiled, " << cacheHits << " cache hits, " << timings
      << " candidates timed, " << rejected << " rejected, " << std::fixed
      << std::setprecision(1) << seconds << " s; plan " << planPath;
  return out.str();
}

std::string EngineSummary::toJson() const {
  std::ostringstream out;
  out << "{\"layers\": " << layers << ", \"variants\": " << variants
      << ", \"kernels\": " << kernels << ", \"compiled\": " << compiled
      << ", \"cache_hits\": " << cacheHits << ", \"timings\": " << timings
      << ", \"rejected\": " << rejected << ", \"seconds\": " << seconds
      << ", \"plan\": " << jsonString(planPath) << "}";
  return out.str();
}

EngineSummary buildEngine(const std::vector<ExportedLayer> &layers,
                          const EngineOptions &options) {
  const auto start = std::chrono::steady_clock::now();
  EngineSummary summary;
  summary.planPath = choosePlanPath(options);
  summary.layers = static_cast<int64_t>(layers.size());
  for (const ExportedLayer &layer : layers)
    summary.variants += static_cast<int64_t>(layer.keeps.size());
  const torch_bridge::RuntimeStats before = torch_bridge::getRuntimeStats();
  const c10::DeviceGuard onDevice(options.device);
  Progress progress(options.progress, summary.variants);
  std::vector<std::string> entries;
  std::set<std::string> kernels;
  for (const ExportedLayer &layer : layers)
    for (double keep : layer.keeps) {
      progress.step(static_cast<int64_t>(entries.size()),
                    layer.name + " (k " +
                        std::to_string(keptChannels(
                            keep, layer.spec.weightShape[0])) +
                        ")");
      const ConvBackwardArgs args = makeArgs(layer, keep, options.device);
      const PreparedLayer prepared =
          options.device.is_cuda() ? torch_bridge::prepareConvCuda(args)
                                   : torch_bridge::prepareConvCpu(args);
      kernels.insert(prepared.kernels.begin(), prepared.kernels.end());
      entries.push_back(formatEntry(layer, keep, prepared));
    }
  progress.step(summary.variants, "done");
  progress.finish();
  const torch_bridge::RuntimeStats after = torch_bridge::getRuntimeStats();
  summary.kernels = static_cast<int64_t>(kernels.size());
  summary.compiled = after.compiles - before.compiles;
  summary.cacheHits = after.memoryHits + after.diskHits - before.memoryHits -
                      before.diskHits;
  summary.timings = after.timings - before.timings;
  summary.rejected = after.rejected - before.rejected;
  summary.seconds = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  const std::string why = writeFileAtomically(
      summary.planPath, formatPlan(options, entries, summary), 0644);
  if (!why.empty())
    throw std::runtime_error("ssprop: cannot write the plan: " + why);
  return summary;
}

namespace torch_bridge {

std::string buildEngineOp(const std::vector<ExportedLayer> &layers,
                          const c10::Device &device, const std::string &name,
                          const std::optional<std::string> &planPath,
                          bool progress) {
  EngineOptions options;
  options.device = device;
  options.name = name;
  options.planPath = planPath.value_or("");
  options.progress = progress;
  try {
    return buildEngine(layers, options).toJson();
  } catch (const c10::Error &) {
    throw;
  } catch (const std::exception &error) {
    TORCH_CHECK(false, error.what());
  }
}

} // namespace torch_bridge
} // namespace ssprop
