//===- CudaBackward.h - the bridge's door to the JIT runtime ----*- C++ -*-===//
//
// The CUDA half of ssprop::conv2d's backward: generated kernels, compiled by
// the JIT runtime on first use, launched on the current CUDA stream.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TORCH_CUDABACKWARD_H
#define SSPROP_RUNTIME_TORCH_CUDABACKWARD_H

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace ssprop::torch_bridge {

struct ConvBackwardArgs {
  at::Tensor gradOutput, input, weight;
  bool hasBias = false;
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  double keep = 1.0;
  std::string select = "topk";
  bool weightOnly = false;
  /// Which of grad_input, grad_weight, grad_bias are wanted.
  std::array<bool, 3> outputMask{true, true, true};
};

/// grad_input, grad_weight, grad_bias of a CUDA convolution (undefined
/// tensors where outputMask is false). Arguments are already validated.
std::tuple<at::Tensor, at::Tensor, at::Tensor>
convBackwardCuda(const ConvBackwardArgs &args);

/// The tactics a CUDA convolution may run (runtime/Tactics.h), honouring
/// torch.backends.cudnn.allow_tf32; only the gathered path where the
/// generated kernels do not cover the element type or the GPU.
std::vector<std::string> getConvTacticsCuda(const ConvBackwardArgs &args);

/// Counters of the JIT runtime, for ssprop.stats().
struct RuntimeStats {
  int64_t compiles = 0, memoryHits = 0, diskHits = 0;
  double compileMs = 0;
};
RuntimeStats getRuntimeStats();
void resetRuntimeStats();

} // namespace ssprop::torch_bridge

#endif // SSPROP_RUNTIME_TORCH_CUDABACKWARD_H
