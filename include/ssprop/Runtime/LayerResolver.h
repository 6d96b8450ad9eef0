//===- LayerResolver.h - a layer's tactic and kernels, once ------*- C++ -*-===//
//
// The runtime resolves a layer once: spec -> k -> tactic (forced, cached in
// the timing cache, or timed now) -> compiled kernels for a generated tactic.
// The result is memoised by the layer's key, so every later backward call of
// the layer costs one hash lookup.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_LAYERRESOLVER_H
#define SSPROP_RUNTIME_LAYERRESOLVER_H

#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Tactics.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ssprop {

/// What a layer runs: a tactic and, for a generated one, its kernels (CUDA
/// or CPU).
struct ResolvedLayer {
  Tactic tactic;
  std::shared_ptr<const CompiledLayer> kernels;
  std::shared_ptr<const CompiledCpuLayer> cpuKernels;
};

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

  LayerResolver(Jit &jit, TacticSelector &selector);

  /// The layer's tactic and kernels on `target`. The first call for a key
  /// chooses (timing the candidates with `timer` unless the choice is forced
  /// or cached) and compiles; later calls return the memoised result. When
  /// `mayTime` is false (a CUDA graph is being captured) nothing is timed:
  /// without a forced or cached choice the first candidate runs, and the
  /// answer is not memoised.
  std::shared_ptr<const ResolvedLayer> resolve(const ConvLayerSpec &spec,
                                               const LayerTarget &target,
                                               const Timer &timer,
                                               bool mayTime = true);

  /// Layers resolved from the memo (the hot path's hits).
  int64_t getHits() const;
  /// Layers in the memo.
  size_t getMemoSize() const;

private:
  /// Every field a resolution depends on: the spec (with k, not keep) and
  /// the target. The forced tactic is not in it: a change of the forced
  /// tactic empties the memo.
  using Key = std::array<int64_t, 27>;
  struct KeyHash {
    size_t operator()(const Key &key) const;
  };
  static Key makeKey(const ConvLayerSpec &spec, const LayerTarget &target);

  /// The tactic: forced, cached, timed now, or (when `mayTime` is false
  /// and nothing is known) the first candidate; `memoise` says whether the
  /// answer holds for later calls.
  Tactic choose(const ConvLayerSpec &spec, const LayerTarget &target,
                const Timer &timer, bool mayTime, bool &memoise);
  ResolvedLayer withKernels(const Tactic &tactic, const ConvLayerSpec &spec,
                            const LayerTarget &target);
  /// The layer's candidates on its target.
  std::vector<Tactic> getCandidates(const ConvLayerSpec &spec,
                                    const LayerTarget &target) const;

  Jit &jit;
  TacticSelector &selector;
  mutable std::mutex mutex; // guards resolved, generation and hits
  std::unordered_map<Key, std::shared_ptr<const ResolvedLayer>, KeyHash>
      resolved;
  /// The tactic settings' generation the memo's answers hold for.
  uint64_t generation = 0;
  int64_t hits = 0;
};

/// The timing cache's key of a layer: its kernels' key with k rounded up to a
/// multiple of 32 (timings within such a bucket are alike, and a moving keep
/// must not re-time every k) and whether TF32 tiles competed (CUDA), or the
/// thread count (CPU, in the kernels' key).
std::string getTacticKey(const ConvLayerSpec &spec, const LayerTarget &target);

} // namespace ssprop

#endif // SSPROP_RUNTIME_LAYERRESOLVER_H
