//===- Tactics.h - choosing the fastest implementation per layer -*- C++ -*-===//
//
// TensorRT-style tactics: each layer has several candidate implementations
// (generated kernels with different tiles; gathered cuDNN and cuBLAS for 1x1
// on CUDA, gathered ATen and ATen's matrix products on the CPU).
// The first use times every candidate and keeps the fastest; the choice is
// persisted in a timing cache keyed by the device and the software versions,
// so later runs do not time again. A forced tactic (SSPROP_TACTIC, or
// setForcedTactic) overrides the choice.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TACTICS_H
#define SSPROP_RUNTIME_TACTICS_H

#include "ssprop/Core/CpuCodegenOptions.h"
#include "ssprop/Core/LayerSpec.h"
#include "ssprop/Core/Tactic.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssprop {

/// A bad forced tactic or a layer no candidate could run.
class TacticError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A candidate whose results differ from the reference path's: thrown by a
/// timer, it is disabled for the layer and recorded in the timing cache.
class RejectedCandidate : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What a timing cache is valid for: results from another GPU, driver or
/// compiler are never reused.
struct DeviceIdentity {
  std::string name;        ///< e.g. "NVIDIA H100 80GB HBM3"
  int computeCapability;   ///< e.g. 90
  int driverVersion;       ///< cuDriverGetVersion
  int cudaVersion;         ///< the CUDA runtime torch uses
  int nvrtcVersion;        ///< getNvrtcVersion()
};

/// What a CPU timing cache is valid for: the CPU model (as the system names
/// it) and the CPU target of the kernels (LLVM's CPU name, features, version).
struct CpuIdentity {
  std::string model;
  CpuTarget target;
};

/// The candidates for a CUDA convolution layer: the generated kernels with
/// each tile configuration, the gathered-cuDNN path, and cuBLAS where the
/// layer is a plain GEMM (isPlainGemm). Without `allowTf32` (PyTorch's
/// torch.backends.cudnn.allow_tf32), f32 layers get no tensor-core tiles.
std::vector<Tactic> getTacticCandidates(const ConvLayerSpec &spec,
                                        bool allowTf32 = true);

/// The candidates for a CPU convolution layer: the generated kernels with
/// each register tile of `isa` (f32 and bf16 layers; std::nullopt: none),
/// the gathered-ATen path, and ATen's matrix products where the layer is a
/// plain GEMM.
std::vector<Tactic> getCpuTacticCandidates(const ConvLayerSpec &spec,
                                           std::optional<Isa> isa);

/// Whether a CPU layer is worth compiling and timing the generated kernels
/// for when no tactic is forced: at least kMinCpuGeneratedFlops in one dense
/// GEMM (a compile takes seconds; smaller layers would not earn it back).
/// Smaller layers run the gathered-ATen path.
constexpr double kMinCpuGeneratedFlops = 1 << 24;
bool isWorthGeneratingOnCpu(const ConvLayerSpec &spec);

/// The forced tactic's name, empty when none is forced. Its first value is
/// SSPROP_TACTIC, read once.
std::string getForcedTacticName();
/// Forces the tactic `name` on every layer (empty: choose again).
void setForcedTacticName(const std::string &name);
/// Changes whenever the forced tactic does: memoised choices from another
/// generation are stale.
uint64_t getTacticSettingsGeneration();

/// The forced tactic, which must be one of `candidates` (else a TacticError
/// listing them); std::nullopt when none is forced or the forced tactic is
/// one of another device (a process may run layers on both).
std::optional<Tactic> getForcedTactic(const std::vector<Tactic> &candidates);

/// The timing cache's file name for `device` (a SHA-256 of every field and
/// the ssprop version).
std::string getTimingCacheKey(const DeviceIdentity &device);
std::string getTimingCacheKey(const CpuIdentity &cpu);

class TacticSelector {
public:
  /// Milliseconds one run of `tactic` takes on the layer, or an exception if
  /// the tactic cannot run it.
  using Timer = std::function<double(const Tactic &tactic)>;

  /// Persists choices under `directory`/timing/ (empty: memory only; a
  /// folder that is not private as TrustedFiles.h requires is replaced as
  /// the kernel cache's is, or left unused with a warning).
  TacticSelector(const std::string &directory, const DeviceIdentity &device);
  TacticSelector(const std::string &directory, const CpuIdentity &cpu);

  /// The tactic for `layerKey` among `candidates`: the forced tactic if any
  /// (which must be one of them), else the cached choice, else the fastest
  /// as timed by `timer`, which is then cached. Rejected candidates are not
  /// timed; one the timer rejects (RejectedCandidate) is recorded as such.
  /// Thread-safe; `timer` runs without the selector's lock.
  Tactic choose(const std::string &layerKey,
                const std::vector<Tactic> &candidates, const Timer &timer);

  /// The forced or cached choice for `layerKey` without timing anything.
  std::optional<Tactic> lookup(const std::string &layerKey,
                               const std::vector<Tactic> &candidates) const;

  /// Disables `tactic` for `layerKey` (here and in the timing cache) with
  /// one warning saying `why`.
  void reject(const std::string &layerKey, const Tactic &tactic,
              const std::string &why);
  bool isRejected(const std::string &layerKey, const Tactic &tactic) const;

  /// The recorded time of `tactic`, the choice for `layerKey`, if it is.
  std::optional<double> getMilliseconds(const std::string &layerKey,
                                        const Tactic &tactic) const;

  /// How many candidates were timed (for tests and statistics).
  int getTimings() const;

  /// A timing cache's content: the choice (tactic, milliseconds) and the
  /// rejected tactics per layer key.
  struct Timings {
    std::map<std::string, std::pair<std::string, double>> choices;
    std::map<std::string, std::set<std::string>> rejected;
  };

private:
  /// Opens the timing cache `key` under `directory`.
  void open(const std::string &directory, const std::string &key);
  std::optional<std::pair<Tactic, double>>
  findCached(const std::string &layerKey,
             const std::vector<Tactic> &candidates) const;
  bool isRejectedLocked(const std::string &layerKey,
                        const Tactic &tactic) const;
  void rejectLocked(const std::string &layerKey, const Tactic &tactic,
                    const std::string &why);
  /// The timing cache file's content (none if it is missing or untrusted).
  Timings readTimings() const;
  /// Adds what this process knows of `layerKey` to the file, keeping other
  /// processes' news.
  void save(const std::string &layerKey);

  std::string path;
  mutable std::mutex mutex;
  Timings timings;
  std::atomic<int> timed{0};
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_TACTICS_H
