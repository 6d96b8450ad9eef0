//===- Engine.h - build a network's kernels and tactics ahead ---*- C++ -*-===//
//
// The engine build, TensorRT-style: for every layer of a network and every
// kept-channel count its keeps give, compile the generated candidates, verify
// and time them on the target device (on random tensors of the layer's
// shapes), and record the choice. The kernel and timing caches then hold
// everything training needs, so training with the same shapes, device,
// thread count and cache never compiles or times; the plan file (JSON) says
// what each layer runs.
//
//   auto layers = ssprop::recordLayers(*net, [&] { net->forward(x); });
//   ssprop::EngineSummary summary = ssprop::buildEngine(layers, {});
//   std::cerr << summary.format() << "\n";
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_ENGINE_H
#define SSPROP_TORCH_ENGINE_H

#include "ssprop/Core/NetworkIR.h"
#include "ssprop/Torch/Export.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ssprop {

struct EngineOptions {
  /// Where the plan goes; empty: <cache directory>/plans/<name>.json.
  std::string planPath;
  /// The network's name (the default plan's file name).
  std::string name = "model";
  c10::Device device = c10::Device(c10::kCPU);
  /// A progress bar on stderr.
  bool progress = true;
};

struct SSPROP_TORCH_API EngineSummary {
  int64_t layers = 0;   ///< layers of the network
  int64_t variants = 0; ///< (layer, k) pairs resolved
  int64_t kernels = 0;  ///< distinct kernels the plan runs
  int64_t compiled = 0; ///< kernels compiled by this build
  int64_t cacheHits = 0;
  int64_t timings = 0;  ///< candidates timed
  int64_t rejected = 0; ///< candidates that failed verification
  double seconds = 0;
  std::string planPath;
  /// One line: "ssprop: engine of 20 layers (31 variants): ...".
  std::string format() const;
  /// The summary as a JSON object.
  std::string toJson() const;
};

/// Builds the engine of `layers` (see above) and writes its plan. Checks the
/// plan's path before any work: an existing file there must be a plan (it is
/// replaced whole), never followed if it is a link. Throws std::runtime_error
/// naming the problem.
SSPROP_TORCH_API EngineSummary buildEngine(
    const std::vector<ExportedLayer> &layers, const EngineOptions &options);

} // namespace ssprop

#endif // SSPROP_TORCH_ENGINE_H
