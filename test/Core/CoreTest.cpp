//===- CoreTest.cpp - the rules every part of ssprop shares ---------------===//
//
// SSPropCore alone: no MLIR, no torch.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Core/InputLimits.h"
#include "ssprop/Core/LayerSpec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

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

} // namespace
