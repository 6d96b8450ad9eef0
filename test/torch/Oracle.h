//===- Oracle.h - the tests' own ssProp backward ----------------*- C++ -*-===//
//
// An implementation independent of runtime/torch, from the definition only:
// the gradients are those of the dense backward (autograd of at::conv2d /
// at::linear) with the unselected channels of dy set to zero; the selection
// is computed here from scores computed here.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_TORCH_ORACLE_H
#define SSPROP_TEST_TORCH_ORACLE_H

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace ssprop::test {

struct Grads {
  torch::Tensor input, weight, bias;
};

inline int64_t oracleK(double keep, int64_t channels) {
  int64_t k = static_cast<int64_t>(std::floor(keep * static_cast<double>(channels)));
  return std::max<int64_t>(k, 1);
}

/// 1 on the kept channels of a conv gradient dy [N, C, H, W] by topk of mean |dy|.
inline torch::Tensor topkMask(const torch::Tensor &dy, double keep,
                              std::vector<int64_t> reduceDims) {
  const int64_t channels = dy.size(reduceDims.size() == 3 ? 1 : -1);
  torch::Tensor scores = dy.abs().mean(reduceDims);
  torch::Tensor idx = std::get<1>(scores.topk(oracleK(keep, channels)));
  return torch::zeros({channels}, dy.options()).index_fill_(0, idx, 1.0);
}

/// Mask from explicit indices.
inline torch::Tensor indexMask(const torch::Tensor &idx, int64_t channels,
                               const torch::TensorOptions &options) {
  return torch::zeros({channels}, options).index_fill_(0, idx.to(torch::kLong), 1.0);
}

struct ConvCase {
  int64_t n = 2, cin = 4, cout = 6, h = 7, w = 6, kh = 3, kw = 3;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

/// Dense autograd gradients of at::conv2d for the output gradient `dy`.
inline Grads denseConvGrads(const torch::Tensor &x, const torch::Tensor &w,
                            const std::optional<torch::Tensor> &b,
                            const ConvCase &c, const torch::Tensor &dy) {
  torch::Tensor xr = x.detach().clone().requires_grad_(true);
  torch::Tensor wr = w.detach().clone().requires_grad_(true);
  std::optional<torch::Tensor> br;
  if (b)
    br = b->detach().clone().requires_grad_(true);
  torch::Tensor y = at::conv2d(xr, wr, br ? *br : torch::Tensor(), {c.stride, c.stride},
                               {c.padding, c.padding}, {c.dilation, c.dilation},
                               c.groups);
  std::vector<torch::Tensor> inputs{xr, wr};
  if (br)
    inputs.push_back(*br);
  auto g = torch::autograd::grad({y}, inputs, {dy});
  return {g[0], g[1], br ? g[2] : torch::Tensor()};
}

/// The oracle: dense backward with dy masked by `mask` ([Cout] of 0/1);
/// weightOnly: input gradient from the full dy.
inline Grads oracleConvGrads(const torch::Tensor &x, const torch::Tensor &w,
                             const std::optional<torch::Tensor> &b,
                             const ConvCase &c, const torch::Tensor &dy,
                             const torch::Tensor &mask, bool weightOnly) {
  Grads g = denseConvGrads(x, w, b, c, dy * mask.view({1, -1, 1, 1}));
  if (weightOnly)
    g.input = denseConvGrads(x, w, b, c, dy).input;
  return g;
}

inline Grads denseLinearGrads(const torch::Tensor &x, const torch::Tensor &w,
                              const std::optional<torch::Tensor> &b,
                              const torch::Tensor &dy) {
  torch::Tensor xr = x.detach().clone().requires_grad_(true);
  torch::Tensor wr = w.detach().clone().requires_grad_(true);
  std::optional<torch::Tensor> br;
  if (b)
    br = b->detach().clone().requires_grad_(true);
  torch::Tensor y = at::linear(xr, wr, br ? *br : torch::Tensor());
  std::vector<torch::Tensor> inputs{xr, wr};
  if (br)
    inputs.push_back(*br);
  auto g = torch::autograd::grad({y}, inputs, {dy});
  return {g[0], g[1], br ? g[2] : torch::Tensor()};
}

inline Grads oracleLinearGrads(const torch::Tensor &x, const torch::Tensor &w,
                               const std::optional<torch::Tensor> &b,
                               const torch::Tensor &dy, const torch::Tensor &mask,
                               bool weightOnly) {
  Grads g = denseLinearGrads(x, w, b, dy * mask);
  if (weightOnly)
    g.input = denseLinearGrads(x, w, b, dy).input;
  return g;
}

/// Tolerance by dtype, relative to the largest magnitude of the reference.
inline void expectClose(const torch::Tensor &got, const torch::Tensor &want,
                        const std::string &what) {
  ASSERT_EQ(got.defined(), want.defined()) << what;
  if (!want.defined())
    return;
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), want.scalar_type()) << what;
  const double tol = want.scalar_type() == torch::kDouble ? 1e-11 : 2e-5;
  const double scale = std::max(1.0, want.abs().max().item<double>());
  const double err = (got.to(torch::kDouble) - want.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol * scale) << what << ": max error " << err << " (scale " << scale << ")";
}

} // namespace ssprop::test

#endif // SSPROP_TEST_TORCH_ORACLE_H
