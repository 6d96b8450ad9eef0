//===- ErrorsTest.cpp - every bad input, with its exact message -----------===//

#include "ExpectMessage.h"
#include "ssprop/Torch/Modules.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

namespace {

using ssprop::test::expectMessage;


torch::Tensor t(std::vector<int64_t> sizes, torch::Dtype dtype = torch::kFloat) {
  return torch::randn(sizes, torch::TensorOptions().dtype(dtype));
}

const std::optional<torch::Tensor> kNoBias = std::nullopt;

} // namespace

TEST(Errors, Conv2dRanks) {
  expectMessage([] { ssprop::conv2d(t({3, 8, 8}), t({6, 3, 3, 3}), kNoBias); },
                "ssprop::conv2d: input must be a 4-D tensor [N, C, H, W], got a 3-D "
                "tensor of shape [3, 8, 8]");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3}), kNoBias); },
                "ssprop::conv2d: weight must be a 4-D tensor [Cout, Cin/groups, KH, KW], "
                "got a 2-D tensor of shape [6, 3]");
}

TEST(Errors, Conv2dDtypesAndDevices) {
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}).to(torch::kLong), t({6, 3, 3, 3}).to(torch::kLong), kNoBias); },
                "ssprop::conv2d: input must be a floating-point tensor, got Long");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}, torch::kDouble), kNoBias); },
                "ssprop::conv2d: weight must have the dtype of input (Float), got Double");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), t({6}, torch::kHalf)); },
                "ssprop::conv2d: bias must have the dtype of input (Float), got Half");
  expectMessage(
      [] {
        ssprop::conv2d(t({1, 3, 8, 8}), torch::empty({6, 3, 3, 3}, torch::TensorOptions().device(torch::kMeta)),
               kNoBias);
      },
      "ssprop::conv2d: weight must be on the device of input (cpu), got meta");
  expectMessage(
      [] {
        ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}),
               torch::empty({6}, torch::TensorOptions().device(torch::kMeta)));
      },
      "ssprop::conv2d: bias must be on the device of input (cpu), got meta");
}

TEST(Errors, Conv2dBias) {
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), t({4})); },
                "ssprop::conv2d: bias must be a 1-D tensor of size 6 (the output "
                "channels), got shape [4]");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), t({6, 1})); },
                "ssprop::conv2d: bias must be a 1-D tensor of size 6 (the output "
                "channels), got shape [6, 1]");
}

TEST(Errors, Conv2dKeepAndSelect) {
  auto run = [](double keep, const std::string &select) {
    ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, 0, 1, 1, keep, select);
  };
  expectMessage([&] { run(1.5, "topk"); }, "ssprop::conv2d: keep must be in (0, 1], got 1.5");
  expectMessage([&] { run(0.0, "topk"); }, "ssprop::conv2d: keep must be in (0, 1], got 0");
  expectMessage([&] { run(-0.25, "topk"); }, "ssprop::conv2d: keep must be in (0, 1], got -0.25");
  expectMessage([&] { run(std::numeric_limits<double>::quiet_NaN(), "topk"); },
                "ssprop::conv2d: keep must be in (0, 1], got nan");
  expectMessage([&] { run(0.5, "foo"); },
                "ssprop::conv2d: select must be \"topk\" or \"random\", got \"foo\"");
  expectMessage([&] { run(0.5, "TOPK"); },
                "ssprop::conv2d: select must be \"topk\" or \"random\", got \"TOPK\"");
}

TEST(Errors, Conv2dGroups) {
  expectMessage([] { ssprop::conv2d(t({1, 8, 8, 8}), t({6, 8, 3, 3}), kNoBias, 1, 0, 1, 0); },
                "ssprop::conv2d: groups must be >= 1, got 0");
  expectMessage([] { ssprop::conv2d(t({1, 8, 8, 8}), t({5, 4, 3, 3}), kNoBias, 1, 0, 1, 2); },
                "ssprop::conv2d: groups (2) must divide the output channels "
                "(weight.size(0) = 5)");
  expectMessage([] { ssprop::conv2d(t({1, 9, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, 0, 1, 2); },
                "ssprop::conv2d: groups (2) must divide the input channels "
                "(input.size(1) = 9)");
  expectMessage([] { ssprop::conv2d(t({1, 8, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, 0, 1, 2); },
                "ssprop::conv2d: weight.size(1) * groups must equal the input channels "
                "input.size(1): weight.size(1) = 3, groups = 2, input.size(1) = 8");
  expectMessage([] { ssprop::conv2d(t({1, 8, 8, 8}), t({6, 3, 3, 3}), kNoBias); },
                "ssprop::conv2d: weight.size(1) * groups must equal the input channels "
                "input.size(1): weight.size(1) = 3, groups = 1, input.size(1) = 8");
}

TEST(Errors, Conv2dGeometry) {
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, {1, 1, 1}); },
                "ssprop::conv2d: stride must have 2 elements (or 1, used for both "
                "dimensions), got 3");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, {0, 1}); },
                "ssprop::conv2d: stride must be >= 1, got [0, 1]");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, -1); },
                "ssprop::conv2d: padding must be >= 0, got [-1]");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, at::IntArrayRef{}); },
                "ssprop::conv2d: padding must have 2 elements (or 1, used for both "
                "dimensions), got 0");
  expectMessage([] { ssprop::conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), kNoBias, 1, 0, {1, 0}); },
                "ssprop::conv2d: dilation must be >= 1, got [1, 0]");
  expectMessage([] { ssprop::conv2d(t({1, 3, 4, 8}), t({6, 3, 3, 3}), kNoBias, 1, 0, 2); },
                "ssprop::conv2d: the padded input is smaller than the dilated kernel in "
                "dimension 2: input size 4 + 2 * padding 0 = 4 < dilation 2 * (kernel "
                "size 3 - 1) + 1 = 5");
}

TEST(Errors, Linear) {
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5, 1}), kNoBias); },
                "ssprop::linear: weight must be a 2-D tensor [out_features, in_features], "
                "got a 3-D tensor of shape [3, 5, 1]");
  expectMessage([] { ssprop::linear(torch::tensor(1.0f), t({3, 5}), kNoBias); },
                "ssprop::linear: input must have at least 1 dimension [..., in_features], "
                "got a 0-D tensor");
  expectMessage([] { ssprop::linear(t({4, 6}), t({3, 5}), kNoBias); },
                "ssprop::linear: input.size(-1) must equal weight.size(1) (in_features = "
                "5), got 6");
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5}), t({4})); },
                "ssprop::linear: bias must be a 1-D tensor of size 3 (out_features), got "
                "shape [4]");
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5}, torch::kDouble), kNoBias); },
                "ssprop::linear: weight must have the dtype of input (Float), got Double");
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5}), t({3}, torch::kDouble)); },
                "ssprop::linear: bias must have the dtype of input (Float), got Double");
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5}), kNoBias, 2.0); },
                "ssprop::linear: keep must be in (0, 1], got 2");
  expectMessage([] { ssprop::linear(t({4, 5}), t({3, 5}), kNoBias, 0.5, "foo"); },
                "ssprop::linear: select must be \"topk\" or \"random\", got \"foo\"");
}

TEST(Errors, Modules) {
  expectMessage([] { ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(3, 8, 3).keep(2.0)); },
                "ssprop::nn::Conv2d: keep must be in (0, 1], got 2");
  expectMessage([] { ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(3, 8, 3).select("all")); },
                "ssprop::nn::Conv2d: select must be \"topk\" or \"random\", got \"all\"");
  expectMessage([] { ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(3, 8, 3).groups(2)); },
                "ssprop::nn::Conv2d: in_channels (3) must be divisible by groups (2)");
  expectMessage([] { ssprop::nn::Linear(4, 2)->set_keep(0.0); },
                "ssprop::nn::Linear: keep must be in (0, 1], got 0");
  expectMessage(
      [] {
        torch::nn::Sequential s(torch::nn::Conv2d(
            torch::nn::Conv2dOptions(3, 8, 3).padding(1).padding_mode(torch::kReflect)));
        ssprop::convert(*s, ssprop::ConvertOptions().keep(0.5));
      },
      "ssprop::convert: cannot convert '0': ssprop::nn::Conv2d: padding_mode must be "
      "zeros, got kReflect (pad the input with torch::nn::functional::pad before the "
      "layer instead)");
  expectMessage(
      [] {
        torch::nn::Sequential s(
            torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 4).padding(torch::kSame)));
        ssprop::convert(*s);
      },
      "ssprop::convert: cannot convert '0': ssprop::nn::Conv2d: padding \"same\" would "
      "pad asymmetrically in dimension 0 (dilation 1, kernel size 4); only symmetric "
      "zeros padding is supported");
  expectMessage([] { ssprop::convert(*torch::nn::Sequential(torch::nn::Linear(2, 2)),
                                     ssprop::ConvertOptions().keep(0)); },
                "ssprop::convert: keep must be in (0, 1], got 0");
}
