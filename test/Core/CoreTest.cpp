//===- CoreTest.cpp - the rules every part of ssprop shares ---------------===//
//
// SSPropCore alone: no MLIR, no torch.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Core/InputLimits.h"
#include "ssprop/Core/LayerSpec.h"
#include "ssprop/Core/NetworkIR.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>

using namespace ssprop;

namespace {

TEST(KeptChannels, IsTheFloorOfKeepTimesChannelsAtLeastOne) {
  EXPECT_EQ(keptChannels(1.0, 64), 64);
  EXPECT_EQ(keptChannels(0.5, 64), 32);
  EXPECT_EQ(keptChannels(0.2, 64), 12);   // floor(12.8)
  EXPECT_EQ(keptChannels(0.29, 100), 28); // 0.29 * 100 = 28.999...
  EXPECT_EQ(keptChannels(0.7, 10), 7);    // 7.000000000000001
  EXPECT_EQ(keptChannels(1e-3, 64), 1);
  EXPECT_EQ(keptChannels(std::nextafter(1.0, 0.0), 64), 63);
}

TEST(ConvOutputSize, MatchesPyTorchAndReportsOverflow) {
  EXPECT_EQ(getConvOutputSize(28, 3, 1, 1, 1), 28);
  EXPECT_EQ(getConvOutputSize(32, 3, 2, 1, 1), 16);
  EXPECT_EQ(getConvOutputSize(7, 3, 1, 0, 2), 3);
  EXPECT_EQ(getConvOutputSize(2, 5, 1, 0, 1), -1); // the kernel does not fit
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(getConvOutputSize(5, 3, 1, 0, max), std::nullopt);
  EXPECT_EQ(getConvOutputSize(5, 3, 1, int64_t(1) << 62, 1), std::nullopt);
  EXPECT_EQ(getConvOutputSize(max, 1, 1, 1, 1), std::nullopt);
}

TEST(Geometry, PointwiseAndPlainGemm) {
  ConvGeometry g{{1, 1}, {1, 1}, {0, 0}, 1};
  EXPECT_TRUE(isPointwise(g) && isPlainGemm(g));
  g.groups = 2; // per group plain addressing, but not one GEMM
  EXPECT_TRUE(isPointwise(g));
  EXPECT_FALSE(isPlainGemm(g));
  for (ConvGeometry other : {ConvGeometry{{3, 3}, {1, 1}, {0, 0}, 1},
                             ConvGeometry{{1, 1}, {2, 2}, {0, 0}, 1},
                             ConvGeometry{{1, 1}, {1, 1}, {0, 1}, 1}})
    EXPECT_FALSE(isPointwise(other));
}

TEST(FormatKeep, ShortestRoundTrippingFloatLiteral) {
  EXPECT_EQ(formatKeep(0.4), "0.4");
  EXPECT_EQ(formatKeep(1.0), "1.0");
  EXPECT_EQ(formatKeep(1e-8), "1.0e-08");
  EXPECT_EQ(formatKeep(2.5e-300), "2.5e-300");
  EXPECT_EQ(formatKeep(std::nan("")), "nan");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 10000; ++i) {
    const double keep = i % 2 ? unit(rng) : std::pow(10.0, -300 * unit(rng));
    const std::string text = formatKeep(keep);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), keep) << text;
    EXPECT_NE(text.find('.'), std::string::npos) << text;
  }
}

TEST(SelectNames, RoundTrip) {
  for (Select select : {Select::topk, Select::random})
    EXPECT_EQ(parseSelect(getSelectName(select)), select);
  EXPECT_EQ(parseSelect("TopK"), std::nullopt);
}

TEST(Nesting, TheLimitIsExactAndBracketsInStringsOrCommentsDoNotCount) {
  auto nested = [](int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_EQ(findExcessiveNesting(nested(kMaxNestingDepth)), std::nullopt);
  std::optional<TextPosition> deep = findExcessiveNesting(nested(513));
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->line, 1);
  EXPECT_EQ(deep->column, 513);
  EXPECT_EQ(findExcessiveNesting("x\n  " + nested(600), 100)->line, 2);
  EXPECT_EQ(findExcessiveNesting("x\n  " + nested(600), 100)->column, 103);
  EXPECT_EQ(findExcessiveNesting("\"" + std::string(2000, '(') + "\\\"\""),
            std::nullopt);
  EXPECT_EQ(findExcessiveNesting("// " + std::string(2000, '{') + "\nx"),
            std::nullopt);
  // `->` closes no bracket: a thousand function types nest nothing.
  std::string arrows;
  for (int i = 0; i < 1000; ++i)
    arrows += "(f32) -> (f32)\n";
  EXPECT_EQ(findExcessiveNesting(arrows), std::nullopt);
  EXPECT_EQ(describeExcessiveNesting("in.mlir", {3, 7}, 512),
            "in.mlir:3:7: error: input nested deeper than 512 levels of "
            "brackets; ssprop refuses it instead of exhausting the parser's "
            "stack");
}

/// A grouped, strided, weight-only random layer with a bias and two keeps,
/// then (backward order) a 1x1 first layer without bias or input gradient;
/// both bf16.
std::vector<ExportedLayer> tinyNetwork() {
  ExportedLayer grouped{"features.1", {}, {0.5, 0.25}, true};
  grouped.spec.inputShape = {2, 4, 8, 8};
  grouped.spec.weightShape = {6, 2, 3, 3};
  grouped.spec.stride = {2, 2};
  grouped.spec.padding = {1, 1};
  grouped.spec.groups = 2;
  grouped.spec.dtype = ElementType::bf16;
  grouped.spec.select = Select::random;
  grouped.spec.weightOnly = true;
  ExportedLayer stem{"stem", {}, {1.0}, false};
  stem.spec.inputShape = {2, 3, 8, 8};
  stem.spec.weightShape = {4, 3, 1, 1};
  stem.spec.dtype = ElementType::bf16;
  stem.spec.needInputGrad = false;
  return {grouped, stem};
}

TEST(NetworkIR, ExactText) {
  EXPECT_EQ(
      formatBackwardIR("tiny", tinyNetwork()),
      R"(// The backward of the 2 ssprop convolutions of tiny, the last first (ssprop.export_ir).
func.func @tiny_backward(
    %dy0: tensor<2x6x4x4xbf16>,
    %x0: tensor<2x4x8x8xbf16>,
    %w0: tensor<6x2x3x3xbf16>,
    %dy1: tensor<2x4x8x8xbf16>,
    %x1: tensor<2x3x8x8xbf16>,
    %w1: tensor<4x3x1x1xbf16>)
    -> (tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>, tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>, tensor<4x3x1x1xbf16>) {
  // features.1: 4->6, 3x3, stride 2, 8x8 -> 4x4
  %g0:3 = ssprop.conv2d_backward %dy0, %x0, %w0
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 2
      sparsity = <keep = 0.5, select = random, grads = weight_only>
      : (tensor<2x6x4x4xbf16>, tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>)
      -> (tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>) loc("features.1")
  %g1:3 = ssprop.conv2d_backward %dy0, %x0, %w0
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 2
      sparsity = <keep = 0.25, select = random, grads = weight_only>
      : (tensor<2x6x4x4xbf16>, tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>)
      -> (tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>) loc("features.1")
  // stem: 3->4, 1x1, stride 1, 8x8 -> 8x8
  %g2:3 = ssprop.conv2d_backward %dy1, %x1, %w1
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x4x8x8xbf16>, tensor<2x3x8x8xbf16>, tensor<4x3x1x1xbf16>)
      -> (tensor<2x3x8x8xbf16>, tensor<4x3x1x1xbf16>, tensor<4xbf16>) loc("stem")
  return %g0#0, %g0#1, %g0#2, %g1#0, %g1#1, %g1#2, %g2#1
      : tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>, tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>, tensor<4x3x1x1xbf16>
}
)");
}

TEST(NetworkIR, LocationsAreEscapedStringLiterals) {
  std::vector<ExportedLayer> layers = tinyNetwork();
  layers[1].name = "a\"b\\c\n\xC3\xA9";
  EXPECT_NE(
      formatBackwardIR("tiny", layers).find("loc(\"a\\22b\\5Cc\\0A\\C3\\A9\")"),
      std::string::npos);
}

std::string errorOf(const std::string &name,
                    const std::vector<ExportedLayer> &layers) {
  try {
    formatBackwardIR(name, layers);
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "no error";
}

TEST(NetworkIR, RejectsBadNamesAndLayers) {
  EXPECT_EQ(errorOf("1x", tinyNetwork()),
            "name must be an MLIR identifier (letters, digits, _ $ .), got "
            "'1x'");
  EXPECT_EQ(errorOf("a-b", tinyNetwork()).substr(0, 30),
            "name must be an MLIR identifie");
  EXPECT_EQ(errorOf("", tinyNetwork()).substr(0, 30),
            "name must be an MLIR identifie");
  EXPECT_EQ(errorOf("_a$1.b", tinyNetwork()), "no error");
  EXPECT_EQ(errorOf("net", {}), "the network has no layer to export");
  std::vector<ExportedLayer> noKeep = tinyNetwork();
  noKeep[0].keeps.clear();
  EXPECT_EQ(errorOf("net", noKeep), "layer 'features.1' has no keep");
  std::vector<ExportedLayer> tooSmall = tinyNetwork();
  tooSmall[1].spec.inputShape = {2, 3, 8, 0};
  EXPECT_EQ(errorOf("net", tooSmall),
            "layer 'stem': every input and weight dimension must be >= 1");
}

TEST(NetworkIR, DistinctKeepsAreTheLargestPerKeptCount) {
  const std::vector<double> keeps = {0.25, 1.0, 0.35, 0.5};
  // Cout 10: k = 10, 5, 3, 2; Cout 2: k = 2, 1, 1, 1.
  EXPECT_EQ(distinctKeeps(keeps, 10),
            (std::vector<double>{1.0, 0.5, 0.35, 0.25}));
  EXPECT_EQ(distinctKeeps(keeps, 2), (std::vector<double>{1.0, 0.5}));
  // 0.29 * 100 = 28.999...: k = 28, as 0.28 gives.
  EXPECT_EQ(distinctKeeps({0.28, 0.29}, 100), (std::vector<double>{0.29}));
  EXPECT_EQ(distinctKeeps({}, 8), std::vector<double>{});
}

} // namespace
