//===- Internal.h - shared pieces of the LibTorch bridge --------*- C++ -*-===//
//
// Private to runtime/torch: argument validation, channel selection, the
// gathered ATen backward and the statistics.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TORCH_INTERNAL_H
#define SSPROP_RUNTIME_TORCH_INTERNAL_H

#include "CudaBackward.h"

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ssprop::torch_bridge {

/// Validates keep and select; `where` prefixes the messages ("ssprop::conv2d").
void checkKeepAndSelect(const char *where, double keep, const std::string &select);

/// Expands a 1- or 2-element int list to 2 elements after checking it.
std::array<int64_t, 2> expandPair(const char *where, const char *name,
                                  at::IntArrayRef values, int64_t minValue);

/// Every check of ssprop::conv2d's arguments (works on symbolic shapes).
void checkConv2dArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias,
                     const std::array<int64_t, 2> &stride,
                     const std::array<int64_t, 2> &padding,
                     const std::array<int64_t, 2> &dilation, int64_t groups);

/// Every check of ssprop::linear's arguments (works on symbolic shapes).
void checkLinearArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias);

/// The k kept channels: the k largest `scores` (topk), or the first k of
/// randperm(channels) from the device's default generator (random; scores
/// unused). Sorted int64 indices on `device`.
at::Tensor selectChannels(const at::Tensor &scores, int64_t channels, int64_t k,
                          const std::string &select, const at::Device &device);

/// The gathered ATen backward of a convolution (any device).
std::tuple<at::Tensor, at::Tensor, at::Tensor>
convBackwardGathered(const ConvBackwardArgs &args);

/// True for a 1x1 convolution with stride 1, no padding and one group: a
/// plain GEMM per image.
bool isPlainGemmConv(const ConvBackwardArgs &args);

/// The backward of a plain-GEMM convolution as matrix products on the kept
/// channels (at::matmul: cuBLAS on CUDA); the `cublas` tactic.
std::tuple<at::Tensor, at::Tensor, at::Tensor>
convBackwardGemm(const ConvBackwardArgs &args);

/// The gathered ATen backward of a linear layer (any device).
std::tuple<at::Tensor, at::Tensor, at::Tensor>
linearBackwardGathered(const at::Tensor &gradOutput, const at::Tensor &input,
                       const at::Tensor &weight, bool hasBias, double keep,
                       const std::string &select, bool weightOnly,
                       std::array<bool, 3> outputMask);

/// Adds one backward call's dense and actual FLOPs to the statistics.
void countConvBackwardFlops(const ConvBackwardArgs &args);
void countLinearBackwardFlops(const at::Tensor &gradOutput,
                              const at::Tensor &weight, double keep,
                              bool weightOnly, std::array<bool, 3> outputMask);

} // namespace ssprop::torch_bridge

#endif // SSPROP_RUNTIME_TORCH_INTERNAL_H
