//===- Ops.h - ssprop::conv2d / ssprop::linear from C++ ---------*- C++ -*-===//
//
// The operators registered by libssprop_torch (TORCH_LIBRARY(ssprop)):
//
//   ssprop::conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride=1,
//                  int[2] padding=0, int[2] dilation=1, int groups=1,
//                  float keep=1.0, str select="topk", bool weight_only=False,
//                  str? sync_group=None) -> Tensor
//   ssprop::linear(Tensor input, Tensor weight, Tensor? bias, float keep=1.0,
//                  str select="topk", bool weight_only=False,
//                  str? sync_group=None) -> Tensor
//
// Forward: the dense convolution / linear layer. Backward: ssProp — only the
// k = max(floor(keep * Cout), 1) output channels with the largest mean |dy|
// (select="topk") or k random channels (select="random") are back-propagated;
// see docs/usage.md. sync_group names a process group (torch.distributed's
// group_name) whose processes then all keep the channels of the whole
// group's batch: data-parallel training equals one process on that batch. The
// functions below call the operators through the dispatcher, so autograd,
// devices and torch.compile see the same operator as torch.ops.ssprop.* in
// Python.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_OPS_H
#define SSPROP_TORCH_OPS_H

#include "ssprop/Core/LayerSpec.h" // keptChannels
#include "ssprop/Torch/Export.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ssprop {

/// ssprop::conv2d through the dispatcher. stride/padding/dilation take one
/// value (used for both dimensions) or two.
SSPROP_TORCH_API at::Tensor
conv2d(const at::Tensor &input, const at::Tensor &weight,
       const std::optional<at::Tensor> &bias = std::nullopt,
       at::IntArrayRef stride = 1, at::IntArrayRef padding = 0,
       at::IntArrayRef dilation = 1, int64_t groups = 1, double keep = 1.0,
       const std::string &select = "topk", bool weightOnly = false,
       const std::optional<std::string> &syncGroup = std::nullopt);

/// ssprop::linear through the dispatcher.
SSPROP_TORCH_API at::Tensor
linear(const at::Tensor &input, const at::Tensor &weight,
       const std::optional<at::Tensor> &bias = std::nullopt, double keep = 1.0,
       const std::string &select = "topk", bool weightOnly = false,
       const std::optional<std::string> &syncGroup = std::nullopt);

/// Counters since the last resetStats(). FLOPs count multiply-adds as 2; the
/// dense figure is what the dense backward of the same calls would have done
/// (weight and input gradients, as requested by autograd; bias sums are not
/// counted), the actual figure what ssprop did (k channels instead of Cout in
/// the sparse parts). The JIT counters come from the CUDA runtime.
struct Stats {
  double denseBackwardFlops = 0;
  double actualBackwardFlops = 0;
  int64_t kernelsCompiled = 0;
  int64_t memoryHits = 0;
  int64_t diskHits = 0;
  double compileMs = 0;
  int64_t tacticTimings = 0;      ///< candidates timed
  int64_t provisionalCalls = 0;   ///< gathered calls while kernels compiled
  int64_t rejectedCandidates = 0; ///< generated candidates that failed
                                  ///< verification
};
SSPROP_TORCH_API Stats stats();
SSPROP_TORCH_API void resetStats();

/// Whether layers run their gathered path while their kernels compile in the
/// background ("background", the default) or wait for them ("blocking");
/// the first value is $SSPROP_JIT. Throws std::invalid_argument for another
/// name.
SSPROP_TORCH_API void setJit(const std::string &mode);
SSPROP_TORCH_API std::string getJit();
/// Whether generated kernels are verified against the gathered reference
/// before they first run (the first value is $SSPROP_VERIFY, default 1).
SSPROP_TORCH_API void setVerify(bool verify);
/// Blocks until every background compile has finished. The library stops
/// the compiles at exit once its first job has finished; a C++ program that
/// may exit during that first job calls this (or stopCompiles) first: a
/// compile still running while exit() destroys LLVM's statics would crash.
SSPROP_TORCH_API void waitForCompiles();
/// Drops the background compiles not started, waits for the running ones,
/// and starts no more (Python calls it at exit).
SSPROP_TORCH_API void stopCompiles();

} // namespace ssprop

#endif // SSPROP_TORCH_OPS_H
