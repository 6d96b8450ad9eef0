//===- LayerResolver.h - a layer's tactic and kernels, once ------*- C++ -*-===//
//
// The runtime resolves a layer once: spec -> k -> tactic (forced, cached in
// the timing cache, or timed now) -> compiled kernels for a generated tactic.
// The result is memoised by the layer's key, so every later backward call of
// the layer costs one hash lookup. A generated candidate is verified against
// the reference path before it first runs (timed or forced); one that
// differs never runs for that layer. In the background JIT mode a layer
// whose kernels are not compiled yet runs its gathered path meanwhile.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_LAYERRESOLVER_H
#define SSPROP_RUNTIME_LAYERRESOLVER_H

#include "ssprop/Runtime/BackgroundCompiler.h"
#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Tactics.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ssprop {

/// What a layer runs: a tactic and, for a generated one, its kernels (CUDA
/// or CPU). `provisional`: the gathered path standing in while the layer's
/// kernels compile in the background.
struct ResolvedLayer {
  Tactic tactic;
  std::shared_ptr<const CompiledLayer> kernels;
  std::shared_ptr<const CompiledCpuLayer> cpuKernels;
  bool provisional = false;
};

/// How a layer whose kernels are not compiled yet runs: its gathered path
/// while background threads compile them (and, on first use, verify and time
/// the candidates once they are ready), or only after compiling them.
enum class JitMode { background, blocking };
std::optional<JitMode> parseJitMode(const std::string &name);
/// The process's mode: SSPROP_JIT (background, the default, or blocking)
/// until setJitMode.
JitMode getJitMode();
void setJitMode(JitMode mode);

/// Whether generated candidates are verified before they first run:
/// SSPROP_VERIFY (1, the default, or 0) until setVerifying.
bool isVerifying();
void setVerifying(bool verify);

/// Where a layer runs. CUDA: the codegen options of the device (arch, SMs)
/// and whether TF32 tiles may compete for f32 layers. CPU: the instruction
/// set and the thread count (a generated tactic sets the tile).
struct LayerTarget {
  Device device = Device::cuda;
  CodegenOptions options;
  bool allowTf32 = true;
  CpuCodegenOptions cpu;
};

class LayerResolver {
public:
  /// Milliseconds one run of `candidate` takes on the layer's tensors, or an
  /// exception when it cannot run them.
  using Timer = std::function<double(const ResolvedLayer &candidate)>;
  /// Empty when a generated `candidate`'s results on the layer's tensors
  /// match the reference path's, else how they differ.
  using Verifier = std::function<std::string(const ResolvedLayer &candidate)>;
  /// How candidates are tried on the layer's tensors (no verifier: none is
  /// verified). `detach`, if set, makes a probe on tensors of its own (of
  /// the layer's shapes) that another thread may use after the call: the
  /// background JIT then verifies and times there too.
  struct Probe {
    Probe(Timer time, Verifier verify = nullptr,
          std::function<Probe()> detach = nullptr)
        : time(std::move(time)), verify(std::move(verify)),
          detach(std::move(detach)) {}
    Timer time;
    Verifier verify;
    std::function<Probe()> detach;
  };

  /// Counters since construction.
  struct Stats {
    int64_t hits = 0;        ///< answered from the memo
    int64_t provisional = 0; ///< gathered stand-ins while compiling
    int64_t rejected = 0;    ///< candidates that failed verification
    int64_t timed = 0;       ///< candidates timed
  };

  LayerResolver(Jit &jit, TacticSelector &selector,
                int backgroundWorkers = BackgroundCompiler::getDefaultWorkers());

  /// The layer's tactic and kernels on `target`. The first call for a key
  /// chooses (verifying and timing the candidates with `probe` unless the
  /// choice is forced or cached; a forced generated tactic is verified) and
  /// compiles; later calls return the memoised result. With JitMode::
  /// background, calls before the kernels are compiled (and, when the probe
  /// detaches, the candidates verified and timed) get a provisional answer
  /// (not memoised) and start that work on a background thread; a choice
  /// cached in the timing cache loads its kernels (from the kernel cache) at
  /// once. When `mayTime` is
  /// false (a CUDA graph is being captured) nothing is timed or verified:
  /// without a forced or cached choice the first candidate runs, and the
  /// answer is not memoised.
  std::shared_ptr<const ResolvedLayer>
  resolve(const ConvLayerSpec &spec, const LayerTarget &target,
          const Probe &probe, bool mayTime = true,
          JitMode mode = JitMode::blocking);

  /// Layers resolved from the memo (the hot path's hits).
  int64_t getHits() const;
  Stats getStats() const;
  void resetStats();
  /// Layers in the memo.
  size_t getMemoSize() const;
  /// The timed milliseconds of `tactic`, the layer's recorded choice, if it
  /// is.
  std::optional<double> getMilliseconds(const ConvLayerSpec &spec,
                                        const LayerTarget &target,
                                        const Tactic &tactic) const;
  /// Blocks until the background compiles are done.
  void waitForBackgroundCompiles() { background.waitIdle(); }
  /// Drops the queued background compiles and waits for the running ones;
  /// no more start (the process is exiting).
  void stopBackgroundCompiles() { background.stop(); }
  /// Background compiles queued or running.
  int getBackgroundPending() const { return background.getPending(); }

private:
  /// Every field a resolution depends on: the spec (with k, not keep) and
  /// the target. The forced tactic is not in it: a change of the forced
  /// tactic empties the memo.
  using Key = std::array<int64_t, 27>;
  struct KeyHash {
    size_t operator()(const Key &key) const;
  };
  static Key makeKey(const ConvLayerSpec &spec, const LayerTarget &target);

  /// What the layer runs: the forced, cached or timed tactic, a stand-in
  /// while compiling, or (when `mayTime` is false and nothing is known) the
  /// first candidate; `memoise` says whether the answer holds for later calls.
  ResolvedLayer decide(const ConvLayerSpec &spec, const LayerTarget &target,
                       const Probe &probe, bool mayTime, JitMode mode,
                       const Key &key, bool &memoise);
  /// A known tactic (forced, cached or the only worthwhile one) with its
  /// kernels; a forced generated tactic that fails verification is rejected
  /// for the gathered path.
  ResolvedLayer useKnown(const Tactic &tactic, bool forced,
                         const ConvLayerSpec &spec, const LayerTarget &target,
                         const Probe &probe);
  /// Verifies (unless switched off) and times one candidate.
  double tryCandidate(const Tactic &tactic, const ConvLayerSpec &spec,
                      const LayerTarget &target, const Probe &probe);
  /// Whether the background job of `tactics` on the layer is done: it
  /// compiles the kernels of the generated ones and, given `detach`, chooses
  /// among them on the detached probe. Starts the job if it is new.
  bool isReady(const Key &key, const std::vector<Tactic> &tactics,
               const ConvLayerSpec &spec, const LayerTarget &target,
               const std::function<Probe()> &detach);
  ResolvedLayer withKernels(const Tactic &tactic, const ConvLayerSpec &spec,
                            const LayerTarget &target);
  /// The layer's candidates on its target.
  std::vector<Tactic> getCandidates(const ConvLayerSpec &spec,
                                    const LayerTarget &target) const;

  Jit &jit;
  TacticSelector &selector;
  mutable std::mutex mutex; // guards resolved, generation and stats
  std::unordered_map<Key, std::shared_ptr<const ResolvedLayer>, KeyHash>
      resolved;
  /// The tactic settings' generation the memo's answers hold for.
  uint64_t generation = 0;
  Stats stats;
  /// Declared last: destroyed first, it waits for compiles that use the
  /// members above.
  BackgroundCompiler background;
};

/// The timing cache's key of a layer: its kernels' key with k rounded up to a
/// multiple of 32 (timings within such a bucket are alike, and a moving keep
/// must not re-time every k) and whether TF32 tiles competed (CUDA), or the
/// thread count (CPU, in the kernels' key).
std::string getTacticKey(const ConvLayerSpec &spec, const LayerTarget &target);

} // namespace ssprop

#endif // SSPROP_RUNTIME_LAYERRESOLVER_H
