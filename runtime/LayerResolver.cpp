//===- LayerResolver.cpp - a layer's tactic and kernels, once -------------===//

#include "ssprop/Runtime/LayerResolver.h"

#include <cstdlib>
#include <future>
#include <iostream>

namespace ssprop {
namespace {

/// `options` with the tile of a generated tactic.
CodegenOptions withTile(CodegenOptions options, const Tactic &tactic) {
  options.dgradTile = options.wgradTile = tactic.tile;
  return options;
}

/// `options` with the tile of a generated CPU tactic.
CpuCodegenOptions withCpuTile(CpuCodegenOptions options, const Tactic &tactic) {
  options.tile = tactic.cpuTile;
  return options;
}

/// Compiles every generated candidate's kernels at once, one thread per
/// tile, before any is timed: compilation dominates a layer's first use.
/// Failures are left for the timing run to report.
void compileGenerated(Jit &jit, const std::vector<Tactic> &candidates,
                      const ConvLayerSpec &spec, const LayerTarget &target) {
  std::vector<std::future<void>> compiles;
  for (const Tactic &tactic : candidates)
    if (tactic.kind == TacticKind::generated)
      compiles.push_back(std::async(std::launch::async, [&, tactic] {
        try {
          if (target.device == Device::cpu)
            jit.getCpuLayer(spec, withCpuTile(target.cpu, tactic));
          else
            jit.getLayer(spec, withTile(target.options, tactic));
        } catch (const std::exception &) {
        }
      }));
  for (std::future<void> &compile : compiles)
    compile.wait();
}

bool isLogging() {
  const char *log = std::getenv("SSPROP_LOG");
  return log && std::string(log) == "1";
}

} // namespace

std::string getTacticKey(const ConvLayerSpec &spec, const LayerTarget &target) {
  constexpr int kKeptGranularity = 32;
  const int channels = static_cast<int>(spec.weightShape[0]);
  const int bucket = getKeptBucket(static_cast<int>(spec.getNumKept()),
                                   channels, kKeptGranularity);
  ConvLayerSpec layer = spec;
  layer.keep = 1.0;
  if (target.device == Device::cpu)
    return getCpuLayerKey(layer, withCpuTile(target.cpu, Tactic())) + "|k" +
           std::to_string(bucket);
  return getLayerKey(layer, target.options) + "|k" + std::to_string(bucket) +
         (target.allowTf32 ? "|tf32" : "|exact-f32");
}

LayerResolver::LayerResolver(Jit &jit, TacticSelector &selector)
    : jit(jit), selector(selector) {}

LayerResolver::Key LayerResolver::makeKey(const ConvLayerSpec &spec,
                                          const LayerTarget &target) {
  // target.options' tiles are not in the key: the tactic sets them.
  const CodegenOptions &o = target.options;
  return {spec.inputShape[0],
          spec.inputShape[1],
          spec.inputShape[2],
          spec.inputShape[3],
          spec.weightShape[0],
          spec.weightShape[1],
          spec.weightShape[2],
          spec.weightShape[3],
          spec.stride[0],
          spec.stride[1],
          spec.padding[0],
          spec.padding[1],
          spec.dilation[0],
          spec.dilation[1],
          spec.groups,
          static_cast<int64_t>(spec.dtype),
          spec.getNumKept(),
          static_cast<int64_t>(spec.select),
          spec.weightOnly,
          spec.needInputGrad,
          static_cast<int64_t>(o.arch),
          o.numSMs,
          o.wgradSplitK,
          target.allowTf32,
          static_cast<int64_t>(target.device),
          static_cast<int64_t>(target.cpu.isa),
          target.cpu.threads};
}

size_t LayerResolver::KeyHash::operator()(const Key &key) const {
  uint64_t hash = 0xcbf29ce484222325ull; // FNV-1a over the fields
  for (int64_t field : key)
    hash = (hash ^ static_cast<uint64_t>(field)) * 0x100000001b3ull;
  return static_cast<size_t>(hash);
}

int64_t LayerResolver::getHits() const {
  std::lock_guard<std::mutex> lock(mutex);
  return hits;
}

size_t LayerResolver::getMemoSize() const {
  std::lock_guard<std::mutex> lock(mutex);
  return resolved.size();
}

std::shared_ptr<const ResolvedLayer>
LayerResolver::resolve(const ConvLayerSpec &spec, const LayerTarget &target,
                       const Timer &timer, bool mayTime) {
  const Key key = makeKey(spec, target);
  const uint64_t settings = getTacticSettingsGeneration();
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (settings != generation) {
      resolved.clear();
      generation = settings;
    }
    if (auto it = resolved.find(key); it != resolved.end()) {
      ++hits;
      return it->second;
    }
  }
  bool memoise = true;
  Tactic tactic = choose(spec, target, timer, mayTime, memoise);
  auto layer =
      std::make_shared<const ResolvedLayer>(withKernels(tactic, spec, target));
  if (isLogging())
    std::cerr << "ssprop: layer " << getTacticKey(spec, target) << " runs "
              << tactic.getName() << "\n";
  std::lock_guard<std::mutex> lock(mutex);
  // An answer for settings changed meanwhile holds for this call only.
  if (!memoise || settings != generation)
    return layer;
  // Another thread may have resolved the key meanwhile: keep its answer.
  return resolved.emplace(key, std::move(layer)).first->second;
}

Tactic LayerResolver::choose(const ConvLayerSpec &spec,
                             const LayerTarget &target, const Timer &timer,
                             bool mayTime, bool &memoise) {
  const std::vector<Tactic> candidates = getCandidates(spec, target);
  const std::string tacticKey = getTacticKey(spec, target);
  if (!mayTime) {
    std::optional<Tactic> known = selector.lookup(tacticKey, candidates);
    memoise = known.has_value();
    return known.value_or(candidates.front());
  }
  if (std::optional<Tactic> forced = getForcedTactic(candidates))
    return *forced;
  // Small CPU layers would never earn back the kernels' compile time (nor
  // the timing's).
  if (target.device == Device::cpu && !isWorthGeneratingOnCpu(spec))
    return Tactic::gathered(Device::cpu);
  bool compiled = false;
  return selector.choose(tacticKey, candidates, [&](const Tactic &tactic) {
    if (!std::exchange(compiled, true))
      compileGenerated(jit, candidates, spec, target);
    return timer(withKernels(tactic, spec, target));
  });
}

std::vector<Tactic> LayerResolver::getCandidates(const ConvLayerSpec &spec,
                                                 const LayerTarget &target) const {
  if (target.device == Device::cuda)
    return getTacticCandidates(spec, target.allowTf32);
  return getCpuTacticCandidates(spec, jit.getCpuTarget()
                                          ? std::optional<Isa>(target.cpu.isa)
                                          : std::nullopt);
}

ResolvedLayer LayerResolver::withKernels(const Tactic &tactic,
                                         const ConvLayerSpec &spec,
                                         const LayerTarget &target) {
  ResolvedLayer layer{tactic, nullptr, nullptr};
  if (tactic.kind != TacticKind::generated)
    return layer;
  if (target.device == Device::cpu)
    layer.cpuKernels = jit.getCpuLayer(spec, withCpuTile(target.cpu, tactic));
  else
    layer.kernels = jit.getLayer(spec, withTile(target.options, tactic));
  return layer;
}

} // namespace ssprop
