//===- CudaTest.cpp - the CUDA backward against the oracle ----------------===//
//
// Skipped (with the reason) where no CUDA device is present.
//
//===----------------------------------------------------------------------===//

#include "Oracle.h"

#include "ssprop/Torch/Ops.h"

#include <ATen/Context.h>

using namespace ssprop::test;

namespace {

class Cuda : public ::testing::Test {
protected:
  void SetUp() override {
    if (!torch::cuda::is_available())
      GTEST_SKIP() << "no CUDA device: torch::cuda::is_available() is false (CPU-only "
                      "machine); the CUDA backward is not exercised";
    // The oracle runs cuDNN: no TF32, so that it is an f32 reference.
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
};

void expectCudaClose(const torch::Tensor &got, const torch::Tensor &want, const std::string &what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_TRUE(got.is_cuda()) << what;
  const double scale = std::max(1.0, want.abs().max().item<double>());
  const double err = (got.to(torch::kDouble) - want.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, 1e-4 * scale) << what << ": max error " << err;
}

} // namespace

TEST_F(Cuda, Conv2dMatchesOracle) {
  torch::manual_seed(0);
  auto opts = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat);
  for (int64_t groups : {1, 2, 8})
    for (int64_t stride : {1, 2})
      for (int64_t dilation : {1, 2})
        for (bool weightOnly : {false, true})
          for (double keep : {1.0, 0.5, 0.2}) {
            ConvCase c;
            c.n = 4;
            c.cin = 8;
            c.cout = 16;
            c.h = c.w = 12;
            c.groups = groups;
            c.stride = stride;
            c.padding = 1;
            c.dilation = dilation;
            SCOPED_TRACE("groups " + std::to_string(groups) + " stride " + std::to_string(stride) +
                         " dilation " + std::to_string(dilation) + " weight_only " +
                         std::to_string(weightOnly) + " keep " + std::to_string(keep));
            torch::Tensor x = torch::randn({c.n, c.cin, c.h, c.w}, opts).requires_grad_(true);
            torch::Tensor w = torch::randn({c.cout, c.cin / groups, 3, 3}, opts).requires_grad_(true);
            torch::Tensor b = torch::randn({c.cout}, opts).requires_grad_(true);
            torch::Tensor y = ssprop::conv2d(x, w, b, stride, 1, dilation, groups, keep, "topk", weightOnly);
            torch::Tensor dy = torch::randn_like(y);
            auto g = torch::autograd::grad({y}, {x, w, b}, {dy});
            Grads want = oracleConvGrads(x, w, b, c, dy, topkMask(dy, keep, {0, 2, 3}), weightOnly);
            expectCudaClose(g[0], want.input, "grad_input");
            expectCudaClose(g[1], want.weight, "grad_weight");
            expectCudaClose(g[2], want.bias, "grad_bias");
          }
}

TEST_F(Cuda, LinearMatchesOracle) {
  torch::manual_seed(1);
  auto opts = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat);
  torch::Tensor x = torch::randn({32, 24}, opts).requires_grad_(true);
  torch::Tensor w = torch::randn({40, 24}, opts).requires_grad_(true);
  torch::Tensor y = ssprop::linear(x, w, std::nullopt, 0.3);
  torch::Tensor dy = torch::randn_like(y);
  auto g = torch::autograd::grad({y}, {x, w}, {dy});
  torch::Tensor idx = std::get<1>(dy.abs().sum(0).topk(oracleK(0.3, 40)));
  Grads want = oracleLinearGrads(x, w, std::nullopt, dy, indexMask(idx, 40, dy.options()), false);
  expectCudaClose(g[0], want.input, "grad_input");
  expectCudaClose(g[1], want.weight, "grad_weight");
}

TEST_F(Cuda, KeepOneIsDense) {
  torch::manual_seed(2);
  auto opts = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kDouble);
  torch::Tensor x = torch::randn({2, 4, 9, 9}, opts).requires_grad_(true);
  torch::Tensor w = torch::randn({6, 4, 3, 3}, opts).requires_grad_(true);
  torch::Tensor y = ssprop::conv2d(x, w, std::nullopt, 1, 1, 1, 1, 1.0);
  torch::Tensor dy = torch::randn_like(y);
  auto g = torch::autograd::grad({y}, {x, w}, {dy});
  ConvCase c;
  c.cin = 4;
  c.cout = 6;
  c.padding = 1;
  c.bias = false;
  Grads dense = denseConvGrads(x, w, std::nullopt, c, dy);
  EXPECT_TRUE(torch::equal(g[0], dense.input));
  EXPECT_TRUE(torch::equal(g[1], dense.weight));
}
