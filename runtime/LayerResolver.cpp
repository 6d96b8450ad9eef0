//===- LayerResolver.cpp - a layer's tactic and kernels, once -------------===//

#include "ssprop/Runtime/LayerResolver.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>
#include <iostream>
#include <sstream>

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

/// Compiles every generated candidate's kernels before any is timed:
/// compilation dominates a layer's first use. `inParallel`: one thread per
/// tile (a blocking first use); else one after another (a background job,
/// whose pool bounds the cores compiles take from training). Failures are
/// left for the timing run to report.
void compileGenerated(Jit &jit, const std::vector<Tactic> &candidates,
                      const ConvLayerSpec &spec, const LayerTarget &target,
                      bool inParallel) {
  auto compile = [&](const Tactic &tactic) {
    try {
      if (target.device == Device::cpu)
        jit.getCpuLayer(spec, withCpuTile(target.cpu, tactic));
      else
        jit.getLayer(spec, withTile(target.options, tactic));
    } catch (const std::exception &) {
    }
  };
  std::vector<std::future<void>> compiles;
  for (const Tactic &tactic : candidates)
    if (tactic.kind == TacticKind::generated)
      compiles.push_back(std::async(
          inParallel ? std::launch::async : std::launch::deferred,
          [&, tactic] { compile(tactic); }));
  for (std::future<void> &compile : compiles)
    compile.wait();
}

bool isLogging() {
  const char *log = std::getenv("SSPROP_LOG");
  return log && std::string(log) == "1";
}

/// A switch whose first value comes from an environment variable.
template <typename Value> struct Setting {
  Setting(const char *variable, Value fallback,
          std::optional<Value> (*parse)(const std::string &),
          const char *expected)
      : value(fallback) {
    const char *text = std::getenv(variable);
    if (!text || !*text)
      return;
    if (std::optional<Value> parsed = parse(text))
      value = *parsed;
    else
      std::cerr << "ssprop: warning: ignoring " << variable << "=" << text
                << " (expected " << expected << ")\n";
  }
  std::atomic<Value> value;
};

Setting<JitMode> &getJitModeSetting() {
  static Setting<JitMode> mode("SSPROP_JIT", JitMode::background,
                               parseJitMode, "background or blocking");
  return mode;
}

std::optional<bool> parseSwitch(const std::string &text) {
  if (text == "1")
    return true;
  if (text == "0")
    return false;
  return std::nullopt;
}

Setting<bool> &getVerifySetting() {
  static Setting<bool> verify("SSPROP_VERIFY", true, parseSwitch, "0 or 1");
  return verify;
}

} // namespace

std::optional<JitMode> parseJitMode(const std::string &name) {
  if (name == "background")
    return JitMode::background;
  if (name == "blocking")
    return JitMode::blocking;
  return std::nullopt;
}

JitMode getJitMode() { return getJitModeSetting().value; }
void setJitMode(JitMode mode) { getJitModeSetting().value = mode; }
bool isVerifying() { return getVerifySetting().value; }
void setVerifying(bool verify) { getVerifySetting().value = verify; }

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

LayerResolver::LayerResolver(Jit &jit, TacticSelector &selector,
                             int backgroundWorkers)
    : jit(jit), selector(selector), background(backgroundWorkers) {}

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

int64_t LayerResolver::getHits() const { return getStats().hits; }

LayerResolver::Stats LayerResolver::getStats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return stats;
}

std::optional<double>
LayerResolver::getMilliseconds(const ConvLayerSpec &spec,
                               const LayerTarget &target,
                               const Tactic &tactic) const {
  return selector.getMilliseconds(getTacticKey(spec, target), tactic);
}

void LayerResolver::resetStats() {
  std::lock_guard<std::mutex> lock(mutex);
  stats = Stats();
}

size_t LayerResolver::getMemoSize() const {
  std::lock_guard<std::mutex> lock(mutex);
  return resolved.size();
}

std::shared_ptr<const ResolvedLayer>
LayerResolver::resolve(const ConvLayerSpec &spec, const LayerTarget &target,
                       const Probe &probe, bool mayTime, JitMode mode) {
  const Key key = makeKey(spec, target);
  const uint64_t settings = getTacticSettingsGeneration();
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (settings != generation) {
      resolved.clear();
      generation = settings;
    }
    if (auto it = resolved.find(key); it != resolved.end()) {
      ++stats.hits;
      return it->second;
    }
  }
  bool memoise = true;
  auto layer = std::make_shared<const ResolvedLayer>(
      decide(spec, target, probe, mayTime, mode, key, memoise));
  if (isLogging())
    std::cerr << "ssprop: layer " << getTacticKey(spec, target) << " runs "
              << layer->tactic.getName()
              << (layer->provisional ? " while its kernels compile" : "")
              << "\n";
  std::lock_guard<std::mutex> lock(mutex);
  stats.provisional += layer->provisional;
  // An answer for settings changed meanwhile holds for this call only.
  if (!memoise || settings != generation)
    return layer;
  // Another thread may have resolved the key meanwhile: keep its answer.
  return resolved.emplace(key, std::move(layer)).first->second;
}

ResolvedLayer LayerResolver::decide(const ConvLayerSpec &spec,
                                    const LayerTarget &target,
                                    const Probe &probe, bool mayTime,
                                    JitMode mode, const Key &key,
                                    bool &memoise) {
  const std::vector<Tactic> candidates = getCandidates(spec, target);
  const std::string tacticKey = getTacticKey(spec, target);
  if (!mayTime) {
    std::optional<Tactic> known = selector.lookup(tacticKey, candidates);
    memoise = known.has_value();
    return withKernels(known.value_or(candidates.front()), spec, target);
  }
  std::optional<Tactic> known = getForcedTactic(candidates);
  const bool forced = known.has_value();
  // Small CPU layers would never earn back the kernels' compile time (nor
  // the timing's).
  if (!known && target.device == Device::cpu && !isWorthGeneratingOnCpu(spec))
    known = Tactic::gathered(Device::cpu);
  // A cached choice's kernels were compiled into the kernel cache with it
  // (by an earlier run or the engine build): loading them does not stall.
  bool cached = false;
  if (!known) {
    known = selector.lookup(tacticKey, candidates);
    cached = known.has_value();
  }
  if (mode == JitMode::background && !cached &&
      !isReady(key, known ? std::vector<Tactic>{*known} : candidates, spec,
               target, known ? nullptr : probe.detach)) {
    memoise = false;
    ResolvedLayer standIn{Tactic::gathered(target.device), nullptr, nullptr};
    standIn.provisional = true;
    return standIn;
  }
  if (known)
    return useKnown(*known, forced, spec, target, probe);
  // After a background choice, this finds it in the selector.
  bool compiled = false;
  Tactic chosen = selector.choose(tacticKey, candidates, [&](const Tactic &t) {
    if (!std::exchange(compiled, true))
      compileGenerated(jit, candidates, spec, target, /*inParallel=*/true);
    return tryCandidate(t, spec, target, probe);
  });
  return withKernels(chosen, spec, target);
}

ResolvedLayer LayerResolver::useKnown(const Tactic &tactic, bool forced,
                                      const ConvLayerSpec &spec,
                                      const LayerTarget &target,
                                      const Probe &probe) {
  ResolvedLayer layer = withKernels(tactic, spec, target);
  // A cached choice was verified when it was timed.
  if (!forced || tactic.kind != TacticKind::generated || !probe.verify ||
      !isVerifying())
    return layer;
  const std::string tacticKey = getTacticKey(spec, target);
  std::string error = selector.isRejected(tacticKey, tactic)
                          ? "rejected before, in the timing cache"
                          : probe.verify(layer);
  if (error.empty())
    return layer;
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.rejected;
  }
  selector.reject(tacticKey, tactic, error + "; the forced tactic runs " +
                                         Tactic::gathered(target.device)
                                             .getName() +
                                         " instead");
  return withKernels(Tactic::gathered(target.device), spec, target);
}

double LayerResolver::tryCandidate(const Tactic &tactic,
                                   const ConvLayerSpec &spec,
                                   const LayerTarget &target,
                                   const Probe &probe) {
  ResolvedLayer candidate = withKernels(tactic, spec, target);
  if (tactic.kind == TacticKind::generated && probe.verify && isVerifying())
    if (std::string error = probe.verify(candidate); !error.empty()) {
      std::lock_guard<std::mutex> lock(mutex);
      ++stats.rejected;
      throw RejectedCandidate(error);
    }
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.timed;
  }
  return probe.time(candidate);
}

bool LayerResolver::isReady(const Key &key, const std::vector<Tactic> &tactics,
                            const ConvLayerSpec &spec,
                            const LayerTarget &target,
                            const std::function<Probe()> &detach) {
  auto isGenerated = [](const Tactic &t) {
    return t.kind == TacticKind::generated;
  };
  if (std::none_of(tactics.begin(), tactics.end(), isGenerated))
    return true;
  std::ostringstream name;
  for (int64_t field : key)
    name << field << ",";
  for (const Tactic &tactic : tactics)
    if (isGenerated(tactic))
      name << tactic.getName() << ",";
  return background.isDone(name.str(), [this, tactics, spec, target, detach] {
    compileGenerated(jit, tactics, spec, target, /*inParallel=*/false);
    if (!detach)
      return;
    const Probe own = detach();
    selector.choose(getTacticKey(spec, target), tactics,
                    [&](const Tactic &tactic) {
                      return tryCandidate(tactic, spec, target, own);
                    });
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
