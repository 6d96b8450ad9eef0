//===- Tactics.h - choosing the fastest implementation per layer -*- C++ -*-===//
//
// TensorRT-style tactics: each layer has several candidate implementations
// (generated kernels with different tiles, gathered cuDNN, cuBLAS for 1x1).
// The first use times every candidate and keeps the fastest; the choice is
// persisted in a timing cache keyed by the device and the software versions,
// so later runs do not time again. SSPROP_TACTIC forces one candidate.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TACTICS_H
#define SSPROP_RUNTIME_TACTICS_H

#include "ssprop/Compiler/Compiler.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssprop {

/// A bad SSPROP_TACTIC or a layer no candidate could run.
class TacticError : public std::runtime_error {
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

/// The candidates for a convolution layer: the generated kernels with each
/// tile configuration (`generated:64x64x16_4x4`, ...), the gathered-cuDNN
/// path, and cuBLAS where the layer is a plain GEMM (1x1, stride 1, no
/// padding, one group). Without `allowTf32` (PyTorch's
/// torch.backends.cudnn.allow_tf32), f32 layers get no tensor-core tiles.
std::vector<std::string> getTacticCandidates(const ConvLayerSpec &spec,
                                             bool allowTf32 = true);

/// SSPROP_TACTIC when set, which must then be one of `candidates` (else a
/// TacticError listing them); std::nullopt when unset.
std::optional<std::string>
getForcedTactic(const std::vector<std::string> &candidates);

/// The timing cache's file name for `device` (a SHA-256 of every field and
/// the ssprop version).
std::string getTimingCacheKey(const DeviceIdentity &device);

class TacticSelector {
public:
  /// Milliseconds one run of `tactic` takes on the layer, or an exception if
  /// the tactic cannot run it.
  using Timer = std::function<double(const std::string &tactic)>;

  /// Persists choices under `directory`/timing/ (empty: memory only).
  TacticSelector(std::string directory, DeviceIdentity device);

  /// The tactic for `layerKey` among `candidates`: SSPROP_TACTIC if set
  /// (which must be one of them), else the cached choice, else the fastest
  /// as timed by `timer`, which is then cached. Thread-safe; `timer` runs
  /// under the selector's lock and must not call back into it.
  std::string choose(const std::string &layerKey,
                     const std::vector<std::string> &candidates,
                     const Timer &timer);

  /// How many candidates were timed (for tests and statistics).
  int getTimings() const;

private:
  void load();
  void save();

  std::string path;
  mutable std::mutex mutex;
  std::map<std::string, std::pair<std::string, double>> choices;
  int timings = 0;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_TACTICS_H
