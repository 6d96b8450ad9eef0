//===- Modules.h - ssprop layers for LibTorch -------------------*- C++ -*-===//
//
// ssprop::nn::Conv2d and ssprop::nn::Linear: torch::nn::Conv2d / Linear with
// the ssProp backward (ssprop::conv2d / ssprop::linear through the
// dispatcher); ssprop::convert swaps the layers of an existing model.
//
//   auto net = torch::nn::Sequential(ssprop::nn::Conv2d(
//       ssprop::nn::Conv2dOptions(3, 32, 3).padding(1).keep(0.4)), ...);
//   ssprop::convert(*model, ssprop::ConvertOptions().keep(0.4));
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_MODULES_H
#define SSPROP_TORCH_MODULES_H

#include "ssprop/Torch/Export.h"
#include "ssprop/Torch/Ops.h"
#include "ssprop/Torch/Scheduler.h"

#include <torch/arg.h>
#include <torch/expanding_array.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace ssprop::nn {

/// torch::nn::Conv2dOptions (zeros padding given as numbers) plus the ssProp
/// settings keep, select and weight_only.
struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels,
                torch::ExpandingArray<2> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels),
        kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(torch::ExpandingArray<2>, kernel_size);
  TORCH_ARG(torch::ExpandingArray<2>, stride) = 1;
  TORCH_ARG(torch::ExpandingArray<2>, padding) = 0;
  TORCH_ARG(torch::ExpandingArray<2>, dilation) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
  /// Fraction of output channels the backward keeps, in (0, 1].
  TORCH_ARG(double, keep) = 1.0;
  /// "topk" or "random".
  TORCH_ARG(std::string, select) = "topk";
  /// Dense input gradient, sparse weight and bias gradients.
  TORCH_ARG(bool, weight_only) = false;
  /// The process group (by name) whose processes keep the same channels;
  /// see ssprop::distributed.
  TORCH_ARG(std::optional<std::string>, sync_group) = std::nullopt;
};

class SSPROP_TORCH_API Conv2dImpl : public torch::nn::Cloneable<Conv2dImpl> {
public:
  Conv2dImpl(int64_t in_channels, int64_t out_channels,
             torch::ExpandingArray<2> kernel_size)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2dImpl(Conv2dOptions options);
  /// Takes over a dense convolution: shares its weight and bias tensors.
  /// Only zeros padding (numbers, "valid", or symmetric "same") is accepted.
  Conv2dImpl(const torch::nn::Conv2dImpl &dense, double keep,
             std::string select = "topk", bool weightOnly = false);

  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream &stream) const override;
  at::Tensor forward(const at::Tensor &input);

  /// Sets options.keep after validating it (what DropScheduler calls).
  void set_keep(double keep);

  Conv2dOptions options;
  at::Tensor weight;
  at::Tensor bias;
};
TORCH_MODULE(Conv2d);

/// torch::nn::LinearOptions plus keep, select and weight_only.
struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(double, keep) = 1.0;
  TORCH_ARG(std::string, select) = "topk";
  TORCH_ARG(bool, weight_only) = false;
  TORCH_ARG(std::optional<std::string>, sync_group) = std::nullopt;
};

class SSPROP_TORCH_API LinearImpl : public torch::nn::Cloneable<LinearImpl> {
public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(LinearOptions options);
  /// Takes over a dense linear layer: shares its weight and bias tensors.
  LinearImpl(const torch::nn::LinearImpl &dense, double keep,
             std::string select = "topk", bool weightOnly = false);

  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream &stream) const override;
  at::Tensor forward(const at::Tensor &input);

  void set_keep(double keep);

  LinearOptions options;
  at::Tensor weight;
  at::Tensor bias;
};
TORCH_MODULE(Linear);

} // namespace ssprop::nn

namespace ssprop {

struct ConvertOptions {
  TORCH_ARG(double, keep) = 1.0;
  TORCH_ARG(std::string, select) = "topk";
  TORCH_ARG(bool, weight_only) = false;
  /// A layer that cannot be swapped in place (see convert) throws when true,
  /// is skipped (and listed in ConvertResult::skipped) when false.
  TORCH_ARG(bool, strict) = true;
};

struct ConvertResult {
  /// Paths ("features.0") of the layers now ssprop layers (ssprop layers
  /// already there are updated with the options and listed too).
  std::vector<std::string> converted;
  /// Paths of the dense layers left as they were (strict(false) only).
  std::vector<std::string> skipped;
};

/// Swaps every torch::nn::Conv2d and torch::nn::Linear inside `module`,
/// recursively, for ssprop::nn::Conv2d / Linear sharing the same weight and
/// bias tensors (optimizers holding them keep working).
///
/// In C++ a parent module reaches its children through typed members (or its
/// users cast them to their dense type, as with ModuleList / ModuleDict),
/// which no function can re-point. convert therefore swaps in place the layers
/// held by torch::nn::Sequential (which calls its children through the
/// registry), at any depth and inside any module. A Conv2d/Linear held by any
/// other parent, or `module` itself, cannot be swapped: strict throws, naming
/// it; otherwise it is skipped and listed. Build such layers as
/// ssprop::nn::Conv2d / Linear directly. Padding modes other than zeros and
/// asymmetric "same" padding throw.
SSPROP_TORCH_API ConvertResult convert(torch::nn::Module &module,
                                       const ConvertOptions &options = {});

/// Data-parallel training with ssProp: every ssprop layer inside `module`
/// (and `module` itself) selects its channels from the scores of the whole
/// batch of the process group `groupName` (a group registered with
/// c10d::register_process_group, as torch.distributed does), so that all
/// processes keep the same channels and a step equals one process on the
/// concatenated batch. std::nullopt turns the synchronisation off. Returns
/// the number of layers changed; throws if there is none.
SSPROP_TORCH_API int64_t distributed(
    torch::nn::Module &module, const std::optional<std::string> &groupName);

} // namespace ssprop

#endif // SSPROP_TORCH_MODULES_H
