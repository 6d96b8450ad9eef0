//===- OpsTest.cpp - ssprop::conv2d / ssprop::linear gradients ------------===//
//
// Gradients of the operators against the oracle of Oracle.h over a grid of
// geometries, keeps and dtypes; keep = 1 against dense autograd bit for bit;
// random selection under seeds; layouts; statistics; double backward.
//
//===----------------------------------------------------------------------===//

#include "Oracle.h"

#include "ssprop/Torch/Ops.h"

#include <sstream>

using namespace ssprop::test;

namespace {

const double kKeeps[] = {1.0, 0.5, 0.2, 1e-3};

struct ConvRun {
  torch::Tensor x, w, b, y, dy;
  Grads grads;
};

/// Runs ssprop::conv2d forward and backward with autograd.
ConvRun runConv(const ConvCase &c, torch::Dtype dtype, double keep,
                const std::string &select, bool weightOnly,
                bool inputNeedsGrad = true) {
  auto opts = torch::TensorOptions().dtype(dtype);
  ConvRun r;
  r.x = torch::randn({c.n, c.cin, c.h, c.w}, opts).requires_grad_(inputNeedsGrad);
  r.w = torch::randn({c.cout, c.cin / c.groups, c.kh, c.kw}, opts).requires_grad_(true);
  if (c.bias)
    r.b = torch::randn({c.cout}, opts).requires_grad_(true);
  r.y = ssprop::conv2d(r.x, r.w, c.bias ? std::optional<torch::Tensor>(r.b) : std::nullopt,
                       c.stride, c.padding, c.dilation, c.groups, keep, select,
                       weightOnly);
  r.dy = torch::randn_like(r.y);
  std::vector<torch::Tensor> inputs;
  if (inputNeedsGrad)
    inputs.push_back(r.x);
  inputs.push_back(r.w);
  if (c.bias)
    inputs.push_back(r.b);
  auto g = torch::autograd::grad({r.y}, inputs, {r.dy});
  size_t i = 0;
  if (inputNeedsGrad)
    r.grads.input = g[i++];
  r.grads.weight = g[i++];
  if (c.bias)
    r.grads.bias = g[i++];
  return r;
}

std::string describe(const ConvCase &c, torch::Dtype dtype, double keep,
                     bool weightOnly) {
  std::ostringstream s;
  s << "stride " << c.stride << " padding " << c.padding << " dilation "
    << c.dilation << " groups " << c.groups << " cin " << c.cin << " cout "
    << c.cout << " bias " << c.bias << " weight_only " << weightOnly
    << " keep " << keep << " " << (dtype == torch::kDouble ? "f64" : "f32");
  return s.str();
}

void checkConvGrid(torch::Dtype dtype, int64_t groupsKind) {
  torch::manual_seed(1234);
  for (int64_t stride : {1, 2})
    for (int64_t padding : {0, 1})
      for (int64_t dilation : {1, 2})
        for (bool bias : {true, false})
          for (bool weightOnly : {false, true})
            for (double keep : kKeeps) {
              ConvCase c;
              c.stride = stride;
              c.padding = padding;
              c.dilation = dilation;
              c.bias = bias;
              if (groupsKind == 2) {
                c.groups = 2;
                c.cin = 4;
                c.cout = 6;
              } else if (groupsKind == 3) { // depthwise, channel multiplier 2
                c.cin = 5;
                c.groups = 5;
                c.cout = 10;
              }
              SCOPED_TRACE(describe(c, dtype, keep, weightOnly));
              ConvRun r = runConv(c, dtype, keep, "topk", weightOnly);
              // Forward: the dense convolution.
              torch::Tensor yRef = at::conv2d(r.x, r.w, bias ? r.b : torch::Tensor(),
                                              {stride, stride}, {padding, padding},
                                              {dilation, dilation}, c.groups);
              expectClose(r.y.detach(), yRef.detach(), "forward");
              torch::Tensor mask = topkMask(r.dy, keep, {0, 2, 3});
              Grads want = oracleConvGrads(r.x, r.w,
                                           bias ? std::optional<torch::Tensor>(r.b)
                                                : std::nullopt,
                                           c, r.dy, mask, weightOnly);
              expectClose(r.grads.input, want.input, "grad_input");
              expectClose(r.grads.weight, want.weight, "grad_weight");
              if (bias) {
                expectClose(r.grads.bias, want.bias, "grad_bias");
              }
              // Rows of unselected channels are exactly zero.
              torch::Tensor off = (mask == 0);
              EXPECT_EQ(r.grads.weight.index({off}).abs().sum().item<double>(), 0.0);
              if (bias) {
                EXPECT_EQ(r.grads.bias.index({off}).abs().sum().item<double>(), 0.0);
              }
            }
}

} // namespace

TEST(Conv2dGrad, GridF32Groups1) { checkConvGrid(torch::kFloat, 1); }
TEST(Conv2dGrad, GridF64Groups1) { checkConvGrid(torch::kDouble, 1); }
TEST(Conv2dGrad, GridF32Groups2) { checkConvGrid(torch::kFloat, 2); }
TEST(Conv2dGrad, GridF64Groups2) { checkConvGrid(torch::kDouble, 2); }
TEST(Conv2dGrad, GridF32Depthwise) { checkConvGrid(torch::kFloat, 3); }
TEST(Conv2dGrad, GridF64Depthwise) { checkConvGrid(torch::kDouble, 3); }

TEST(Conv2dGrad, ManyGroupsUnevenSelection) {
  // 4 groups of 8 channels, keep 0.25: the kept channels fall unevenly.
  torch::manual_seed(7);
  for (double keep : {0.25, 0.1, 0.6}) {
    ConvCase c;
    c.cin = 8;
    c.cout = 32;
    c.groups = 4;
    c.padding = 1;
    c.dilation = 2;
    c.h = c.w = 9;
    SCOPED_TRACE(describe(c, torch::kDouble, keep, false));
    ConvRun r = runConv(c, torch::kDouble, keep, "topk", false);
    Grads want = oracleConvGrads(r.x, r.w, r.b, c, r.dy,
                                 topkMask(r.dy, keep, {0, 2, 3}), false);
    expectClose(r.grads.input, want.input, "grad_input");
    expectClose(r.grads.weight, want.weight, "grad_weight");
    expectClose(r.grads.bias, want.bias, "grad_bias");
  }
}

TEST(Conv2dGrad, FirstLayerComputesNoInputGradient) {
  torch::manual_seed(3);
  ConvCase c;
  ConvRun r = runConv(c, torch::kDouble, 0.5, "topk", false,
                      /*inputNeedsGrad=*/false);
  Grads want = oracleConvGrads(r.x, r.w, r.b, c, r.dy,
                               topkMask(r.dy, 0.5, {0, 2, 3}), false);
  expectClose(r.grads.weight, want.weight, "grad_weight");
  expectClose(r.grads.bias, want.bias, "grad_bias");
}

TEST(Conv2dGrad, KeepOneIsDenseBitForBit) {
  torch::manual_seed(11);
  for (int64_t groups : {1, 2, 4})
    for (int64_t stride : {1, 2})
      for (int64_t dilation : {1, 2})
        for (bool bias : {true, false})
          for (bool weightOnly : {false, true})
            for (std::string select : {"topk", "random"}) {
              ConvCase c;
              c.cin = 8;
              c.cout = 12;
              c.groups = groups;
              c.stride = stride;
              c.padding = 1;
              c.dilation = dilation;
              c.bias = bias;
              SCOPED_TRACE(describe(c, torch::kDouble, 1.0, weightOnly));
              ConvRun r = runConv(c, torch::kDouble, 1.0, select, weightOnly);
              Grads dense = denseConvGrads(r.x, r.w,
                                           bias ? std::optional<torch::Tensor>(r.b)
                                                : std::nullopt,
                                           c, r.dy);
              torch::Tensor yRef = at::conv2d(r.x, r.w, bias ? r.b : torch::Tensor(),
                                              {stride, stride}, {1, 1},
                                              {dilation, dilation}, groups);
              EXPECT_TRUE(torch::equal(r.y, yRef));
              EXPECT_TRUE(torch::equal(r.grads.input, dense.input));
              EXPECT_TRUE(torch::equal(r.grads.weight, dense.weight));
              if (bias) {
                EXPECT_TRUE(torch::equal(r.grads.bias, dense.bias));
              }
            }
}

TEST(Conv2dGrad, KeptChannelCount) {
  EXPECT_EQ(ssprop::keptChannels(1.0, 64), 64);
  EXPECT_EQ(ssprop::keptChannels(0.5, 64), 32);
  EXPECT_EQ(ssprop::keptChannels(0.2, 64), 12);   // floor(12.8)
  EXPECT_EQ(ssprop::keptChannels(0.29, 100), 28); // 0.29 * 100 = 28.999...
  EXPECT_EQ(ssprop::keptChannels(1e-3, 64), 1);
  EXPECT_EQ(ssprop::keptChannels(0.7, 10), 7);    // 7.000000000000001
  // The operator keeps exactly k rows: count the nonzero rows of dW.
  torch::manual_seed(5);
  ConvCase c;
  c.cout = 10;
  for (double keep : {0.7, 0.35, 0.05}) {
    ConvRun r = runConv(c, torch::kDouble, keep, "topk", false);
    const int64_t rows =
        (r.grads.weight.abs().sum({1, 2, 3}) != 0).sum().item<int64_t>();
    EXPECT_EQ(rows, ssprop::keptChannels(keep, 10)) << "keep " << keep;
  }
}

TEST(Conv2dGrad, RandomIsReproducibleUnderSeedAndFollowsTorchRandperm) {
  ConvCase c;
  c.cout = 16;
  c.groups = 2;
  c.cin = 4;
  const double keep = 0.25;
  auto gradsWithSeed = [&](uint64_t seed) {
    torch::manual_seed(100);
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor x = torch::randn({c.n, c.cin, c.h, c.w}, opts).requires_grad_(true);
    torch::Tensor w = torch::randn({c.cout, c.cin / c.groups, 3, 3}, opts).requires_grad_(true);
    torch::Tensor b = torch::randn({c.cout}, opts).requires_grad_(true);
    torch::Tensor y = ssprop::conv2d(x, w, b, 1, 0, 1, c.groups, keep, "random");
    torch::Tensor dy = torch::randn_like(y);
    torch::manual_seed(seed);
    auto g = torch::autograd::grad({y}, {x, w, b}, {dy});
    // The oracle: the first k of torch.randperm(Cout) after the same seed.
    torch::manual_seed(seed);
    torch::Tensor idx =
        torch::randperm(c.cout, torch::kLong).narrow(0, 0, oracleK(keep, c.cout));
    Grads want = oracleConvGrads(x, w, b, c, dy,
                                 indexMask(idx, c.cout, dy.options()), false);
    expectClose(g[0], want.input, "grad_input");
    expectClose(g[1], want.weight, "grad_weight");
    expectClose(g[2], want.bias, "grad_bias");
    return g;
  };
  auto a = gradsWithSeed(1), b = gradsWithSeed(1), d = gradsWithSeed(2);
  EXPECT_TRUE(torch::equal(a[1], b[1]));
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  EXPECT_FALSE(torch::equal(a[1], d[1]));
}

TEST(Conv2dGrad, ChannelsLastAndNonContiguous) {
  torch::manual_seed(21);
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  ConvCase c;
  c.cin = 6;
  c.cout = 8;
  c.groups = 2;
  c.padding = 1;
  c.stride = 2;
  for (int layout = 0; layout < 4; ++layout) {
    SCOPED_TRACE("layout " + std::to_string(layout));
    torch::Tensor x, w;
    if (layout == 0) { // channels_last input and weight
      x = torch::randn({c.n, c.cin, 9, 8}, opts).contiguous(torch::MemoryFormat::ChannelsLast);
      w = torch::randn({c.cout, c.cin / 2, 3, 3}, opts).contiguous(torch::MemoryFormat::ChannelsLast);
    } else if (layout == 1) { // strided slices
      x = torch::randn({c.n, 2 * c.cin, 9, 16}, opts).slice(1, 0, 2 * c.cin, 2).slice(3, 0, 16, 2);
      w = torch::randn({c.cout, c.cin / 2, 3, 6}, opts).slice(3, 0, 6, 2);
    } else if (layout == 2) { // permuted views (H and W swapped)
      x = torch::randn({c.n, c.cin, 8, 9}, opts).transpose(2, 3);
      w = torch::randn({c.cout, c.cin / 2, 3, 3}, opts).transpose(2, 3);
    } else { // contiguous input, channels_last weight
      x = torch::randn({c.n, c.cin, 9, 8}, opts);
      w = torch::randn({c.cout, c.cin / 2, 3, 3}, opts).contiguous(torch::MemoryFormat::ChannelsLast);
    }
    ASSERT_TRUE(layout == 3 || !x.is_contiguous());
    x.requires_grad_(true);
    w.requires_grad_(true);
    torch::Tensor b = torch::randn({c.cout}, opts).requires_grad_(true);
    torch::Tensor y = ssprop::conv2d(x, w, b, 2, 1, 1, 2, 0.5);
    // A non-contiguous output gradient too.
    torch::Tensor dy = torch::randn({y.size(0), y.size(1), y.size(3), y.size(2)}, opts).transpose(2, 3);
    auto g = torch::autograd::grad({y}, {x, w, b}, {dy});
    Grads want = oracleConvGrads(x, w, b, c, dy, topkMask(dy, 0.5, {0, 2, 3}), false);
    expectClose(y.detach(), at::conv2d(x, w, b, 2, 1, 1, 2).detach(), "forward");
    expectClose(g[0], want.input, "grad_input");
    expectClose(g[1], want.weight, "grad_weight");
    expectClose(g[2], want.bias, "grad_bias");
    EXPECT_EQ(g[0].sizes(), x.sizes());
  }
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

TEST(LinearGrad, Grid) {
  torch::manual_seed(99);
  for (torch::Dtype dtype : {torch::kFloat, torch::kDouble})
    for (std::vector<int64_t> lead : {std::vector<int64_t>{16}, std::vector<int64_t>{3, 5}})
      for (bool bias : {true, false})
        for (bool weightOnly : {false, true})
          for (double keep : kKeeps) {
            SCOPED_TRACE("rank " + std::to_string(lead.size() + 1) + " bias " +
                         std::to_string(bias) + " weight_only " +
                         std::to_string(weightOnly) + " keep " + std::to_string(keep) +
                         (dtype == torch::kDouble ? " f64" : " f32"));
            auto opts = torch::TensorOptions().dtype(dtype);
            std::vector<int64_t> xs = lead;
            xs.push_back(12);
            torch::Tensor x = torch::randn(xs, opts).requires_grad_(true);
            torch::Tensor w = torch::randn({10, 12}, opts).requires_grad_(true);
            torch::Tensor b = torch::randn({10}, opts).requires_grad_(true);
            std::optional<torch::Tensor> bo = bias ? std::optional<torch::Tensor>(b) : std::nullopt;
            torch::Tensor y = ssprop::linear(x, w, bo, keep, "topk", weightOnly);
            torch::Tensor dy = torch::randn_like(y);
            std::vector<torch::Tensor> inputs{x, w};
            if (bias)
              inputs.push_back(b);
            auto g = torch::autograd::grad({y}, inputs, {dy});
            // Scores: sum over the batch (every leading dimension) of |dy|.
            torch::Tensor dy2 = dy.reshape({-1, 10});
            torch::Tensor idx = std::get<1>(dy2.abs().sum(0).topk(oracleK(keep, 10)));
            torch::Tensor mask = indexMask(idx, 10, dy.options());
            Grads want = oracleLinearGrads(x, w, bo, dy, mask, weightOnly);
            expectClose(y.detach(), at::linear(x, w, bias ? b : torch::Tensor()).detach(), "forward");
            expectClose(g[0], want.input, "grad_input");
            expectClose(g[1], want.weight, "grad_weight");
            if (bias) {
              expectClose(g[2], want.bias, "grad_bias");
            }
            if (keep == 1.0 && dtype == torch::kDouble) {
              Grads dense = denseLinearGrads(x, w, bo, dy);
              EXPECT_TRUE(torch::equal(g[0], dense.input));
              EXPECT_TRUE(torch::equal(g[1], dense.weight));
              if (bias) {
                EXPECT_TRUE(torch::equal(g[2], dense.bias));
              }
            }
          }
}

TEST(LinearGrad, RandomFollowsTorchRandperm) {
  torch::manual_seed(4);
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  torch::Tensor x = torch::randn({8, 6}, opts).requires_grad_(true);
  torch::Tensor w = torch::randn({20, 6}, opts).requires_grad_(true);
  torch::Tensor y = ssprop::linear(x, w, std::nullopt, 0.3, "random");
  torch::Tensor dy = torch::randn_like(y);
  torch::manual_seed(77);
  auto g = torch::autograd::grad({y}, {x, w}, {dy});
  torch::manual_seed(77);
  torch::Tensor idx = torch::randperm(20, torch::kLong).narrow(0, 0, 6);
  Grads want = oracleLinearGrads(x, w, std::nullopt, dy, indexMask(idx, 20, dy.options()), false);
  expectClose(g[0], want.input, "grad_input");
  expectClose(g[1], want.weight, "grad_weight");
}

//===----------------------------------------------------------------------===//
// Statistics, double backward, inference
//===----------------------------------------------------------------------===//

TEST(Stats, CountsDenseAndActualFlops) {
  ssprop::resetStats();
  ssprop::Stats s = ssprop::stats();
  EXPECT_EQ(s.denseBackwardFlops, 0);
  EXPECT_EQ(s.actualBackwardFlops, 0);
  torch::manual_seed(0);
  // N 2, Cin 4, Cout 10, 3x3, output 5x5: per channel 2*2*25*4*9 = 3600.
  torch::Tensor x = torch::randn({2, 4, 7, 7}).requires_grad_(true);
  torch::Tensor w = torch::randn({10, 4, 3, 3}).requires_grad_(true);
  ssprop::conv2d(x, w, std::nullopt, 1, 0, 1, 1, 0.3).sum().backward();
  s = ssprop::stats();
  EXPECT_EQ(s.denseBackwardFlops, 2 * 3600.0 * 10);
  EXPECT_EQ(s.actualBackwardFlops, 2 * 3600.0 * 3);
  // weight_only: dgrad stays dense. Input without grad: no dgrad at all.
  ssprop::resetStats();
  ssprop::conv2d(x, w, std::nullopt, 1, 0, 1, 1, 0.3, "topk", true).sum().backward();
  s = ssprop::stats();
  EXPECT_EQ(s.actualBackwardFlops, 3600.0 * 3 + 3600.0 * 10);
  ssprop::resetStats();
  ssprop::conv2d(x.detach(), w, std::nullopt, 1, 0, 1, 1, 0.3).sum().backward();
  s = ssprop::stats();
  EXPECT_EQ(s.denseBackwardFlops, 3600.0 * 10);
  EXPECT_EQ(s.actualBackwardFlops, 3600.0 * 3);
  // Linear: 2 * rows * in per output feature and gradient.
  ssprop::resetStats();
  torch::Tensor xl = torch::randn({3, 4, 5}).requires_grad_(true);
  torch::Tensor wl = torch::randn({8, 5}).requires_grad_(true);
  ssprop::linear(xl, wl, std::nullopt, 0.5).sum().backward();
  s = ssprop::stats();
  EXPECT_EQ(s.denseBackwardFlops, 2 * (2.0 * 12 * 5 * 8));
  EXPECT_EQ(s.actualBackwardFlops, 2 * (2.0 * 12 * 5 * 4));
  EXPECT_EQ(s.kernelsCompiled, 0);
  ssprop::resetStats();
  EXPECT_EQ(ssprop::stats().denseBackwardFlops, 0);
}

TEST(Autograd, DoubleBackwardIsAClearError) {
  torch::Tensor x = torch::randn({2, 3, 5, 5}, torch::kDouble).requires_grad_(true);
  torch::Tensor w = torch::randn({4, 3, 3, 3}, torch::kDouble).requires_grad_(true);
  torch::Tensor y = ssprop::conv2d(x, w, std::nullopt, 1, 0, 1, 1, 0.5);
  // create_graph alone is fine ...
  auto g = torch::autograd::grad({y.pow(2).sum()}, {x}, {}, std::nullopt,
                                 /*create_graph=*/true);
  ASSERT_TRUE(g[0].requires_grad());
  // ... differentiating the gradient is not.
  try {
    g[0].sum().backward();
    FAIL() << "double backward did not throw";
  } catch (const std::exception &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "ssprop::conv2d: double backward is not supported"),
              std::string::npos)
        << e.what();
  }
  torch::Tensor xl = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  torch::Tensor wl = torch::randn({5, 3}, torch::kDouble).requires_grad_(true);
  auto gl = torch::autograd::grad({ssprop::linear(xl, wl, std::nullopt, 0.5).pow(2).sum()},
                                  {wl}, {}, std::nullopt, true);
  EXPECT_THROW(gl[0].sum().backward(), std::exception);
}

TEST(Autograd, NoGradAndInferenceModeRunTheForward) {
  torch::Tensor x = torch::randn({1, 2, 4, 4});
  torch::Tensor w = torch::randn({3, 2, 3, 3}).requires_grad_(true);
  {
    torch::NoGradGuard g;
    EXPECT_FALSE(ssprop::conv2d(x, w, std::nullopt, 1, 1).requires_grad());
  }
  {
    c10::InferenceMode g;
    EXPECT_TRUE(torch::equal(ssprop::conv2d(x, w, std::nullopt, 1, 1),
                             at::conv2d(x, w, {}, 1, 1)));
  }
}

TEST(Meta, ShapesWithoutData) {
  auto meta = torch::TensorOptions().device(torch::kMeta);
  torch::Tensor y = ssprop::conv2d(torch::empty({8, 16, 32, 30}, meta),
                                   torch::empty({32, 8, 3, 3}, meta), std::nullopt,
                                   2, 1, 2, 2, 0.4);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{8, 32, 15, 14}));
  EXPECT_TRUE(y.is_meta());
  torch::Tensor ycl = ssprop::conv2d(
      torch::empty({8, 16, 32, 30}, meta).contiguous(torch::MemoryFormat::ChannelsLast),
      torch::empty({32, 16, 3, 3}, meta), std::nullopt);
  EXPECT_TRUE(ycl.is_contiguous(torch::MemoryFormat::ChannelsLast));
  torch::Tensor yl = ssprop::linear(torch::empty({4, 7, 5}, meta), torch::empty({3, 5}, meta));
  EXPECT_EQ(yl.sizes(), (std::vector<int64_t>{4, 7, 3}));
}
