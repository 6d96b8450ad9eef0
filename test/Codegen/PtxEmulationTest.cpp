//===- PtxEmulationTest.cpp - the emulated PTX wrappers on known data -----===//
//
// Each test fills fragments by the PTX ISA's fragment-to-thread tables,
// written out again here (groupID = lane >> 2, threadID_in_group = lane % 4),
// runs the prelude's wrapper under the host emulation and expects exact
// results: small integers make every product and sum exact in every format.
//
//===----------------------------------------------------------------------===//

#include "PtxWrappers.h"
#include "Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

using namespace ssprop::test;

namespace {

struct Pos {
  int row, col;
};
int groupOf(int lane) { return lane >> 2; }
int inGroup(int lane) { return lane % 4; }

// m16n8k8 .tf32: a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4);
// b0 (k = t, n = g), b1 (k = t + 4, n = g).
Pos tf32A(int lane, int i) {
  return {groupOf(lane) + 8 * (i % 2), inGroup(lane) + 4 * (i / 2)};
}
Pos tf32B(int lane, int i) { return {inGroup(lane) + 4 * i, groupOf(lane)}; }
// m16n8k16 .f16/.bf16 elements a0..a7 (two per register, low half first):
// rows g for a0, a1, a4, a5, else g + 8; columns 2t + (i & 1), + 8 from a4.
Pos halfA(int lane, int i) {
  bool lowRows = i < 2 || (i >= 4 && i < 6);
  return {groupOf(lane) + (lowRows ? 0 : 8),
          2 * inGroup(lane) + (i & 1) + (i >= 4 ? 8 : 0)};
}
// b0..b3: k = 2t + (i & 1), + 8 from b2; n = g.
Pos halfB(int lane, int i) {
  return {2 * inGroup(lane) + (i & 1) + (i >= 2 ? 8 : 0), groupOf(lane)};
}
// Accumulators: c0, c1 on row g, c2, c3 on g + 8; column 2t + (i & 1).
Pos accumulator(int lane, int i) {
  return {groupOf(lane) + (i >= 2 ? 8 : 0), 2 * inGroup(lane) + (i & 1)};
}

/// A rows x cols matrix of small integers (exact in TF32, f16 and bf16).
std::vector<std::vector<float>> smallIntegers(int rows, int cols,
                                              std::mt19937 &rng) {
  std::uniform_int_distribution<int> value(-8, 8);
  std::vector<std::vector<float>> m(rows, std::vector<float>(cols));
  for (auto &row : m)
    for (float &v : row)
      v = static_cast<float>(value(rng));
  return m;
}

/// Runs D = A * B + C with fragments filled by the tables above; `word`
/// packs one register from its elements.
void checkMma(MmaKind kind, int depth, int aElements, int bElements,
              const std::function<Pos(int, int)> &posA,
              const std::function<Pos(int, int)> &posB,
              const std::function<uint32_t(float, float)> &pack) {
  std::mt19937 rng(static_cast<unsigned>(kind) + 1);
  auto a = smallIntegers(16, depth, rng), b = smallIntegers(depth, 8, rng),
       c = smallIntegers(16, 8, rng);
  uint32_t fa[32][4], fb[32][2];
  float fc[32][4], fd[32][4];
  int perRegA = aElements / 4, perRegB = bElements / 2;
  for (int lane = 0; lane < 32; ++lane) {
    auto at = [&](auto &m, Pos p) { return m[p.row][p.col]; };
    for (int r = 0; r < 4; ++r)
      fa[lane][r] = perRegA == 1 ? pack(at(a, posA(lane, r)), 0)
                                 : pack(at(a, posA(lane, 2 * r)),
                                        at(a, posA(lane, 2 * r + 1)));
    for (int r = 0; r < 2; ++r)
      fb[lane][r] = perRegB == 1 ? pack(at(b, posB(lane, r)), 0)
                                 : pack(at(b, posB(lane, 2 * r)),
                                        at(b, posB(lane, 2 * r + 1)));
    for (int i = 0; i < 4; ++i)
      fc[lane][i] = at(c, accumulator(lane, i));
  }
  runMma(kind, fa, fb, fc, fd);
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      Pos p = accumulator(lane, i);
      float expected = c[p.row][p.col];
      for (int k = 0; k < depth; ++k)
        expected += a[p.row][k] * b[k][p.col];
      EXPECT_EQ(fd[lane][i], expected) << "lane " << lane << " d" << i;
    }
}

uint32_t f32Bits(float v, float) { return floatBits(v); }
uint32_t halfPair(float lo, float hi) {
  return toHalf(lo) | static_cast<uint32_t>(toHalf(hi)) << 16;
}
uint32_t bf16Pair(float lo, float hi) {
  return toBFloat16(lo) | static_cast<uint32_t>(toBFloat16(hi)) << 16;
}

TEST(PtxEmulation, MmaTf32M16n8k8FollowsTheFragmentTables) {
  checkMma(MmaKind::tf32m16n8k8, 8, 4, 2, tf32A, tf32B, f32Bits);
}

TEST(PtxEmulation, MmaF16M16n8k16FollowsTheFragmentTables) {
  checkMma(MmaKind::f16m16n8k16, 16, 8, 4, halfA, halfB, halfPair);
}

TEST(PtxEmulation, MmaBf16M16n8k16FollowsTheFragmentTables) {
  checkMma(MmaKind::bf16m16n8k16, 16, 8, 4, halfA, halfB, bf16Pair);
}

/// The tensor core reads only the TF32 bits of an f32 register: 1 + 2^-12
/// multiplies as 1.
TEST(PtxEmulation, MmaTf32IgnoresBitsBelowTf32) {
  uint32_t a[32][4] = {}, b[32][2] = {};
  float c[32][4] = {}, d[32][4];
  a[0][0] = 0x3f800800u;     // A[0][0] = 1 + 2^-12
  b[0][0] = floatBits(3.0f); // B[0][0]
  runMma(MmaKind::tf32m16n8k8, a, b, c, d);
  EXPECT_EQ(d[0][0], 3.0f);
}

/// Lane 8j + r names row r of matrix j; lane l gets word l % 4 of row l / 4
/// of matrix j in register j. Rows as a 16x8-word A fragment is laid out in
/// the kernels' padded shared memory (20 words a row).
TEST(PtxEmulation, LdmatrixX4DistributesRowsByTheTable) {
  constexpr int stride = 20;
  std::vector<uint32_t> shared(16 * stride);
  for (size_t i = 0; i < shared.size(); ++i)
    shared[i] = static_cast<uint32_t>(1000 + i);
  int offsets[32];
  for (int lane = 0; lane < 32; ++lane)
    offsets[lane] = (lane % 16) * stride + lane / 16 * 4;
  uint32_t regs[32][4];
  runLdmatrix(shared.data(), offsets, regs);
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(regs[lane][j], shared[offsets[8 * j + lane / 4] + lane % 4])
          << "lane " << lane << " register " << j;
  // Spot check against the A fragment: lane 5 (g = 1, t = 1), a2 = (1, 5).
  EXPECT_EQ(regs[5][2], shared[1 * stride + 5]);
  EXPECT_EQ(regs[5][1], shared[9 * stride + 1]);
}

TEST(PtxEmulation, CvtRnaTf32RoundsToNearestTiesAway) {
  const std::pair<uint32_t, uint32_t> cases[] = {
      {0x3f800000u, 0x3f800000u}, // 1 is exact
      {0x3f801000u, 0x3f802000u}, // 1 + 2^-11, a tie: away (even: 1)
      {0xbf801000u, 0xbf802000u}, // -(1 + 2^-11): away from zero too
      {0x3f800fffu, 0x3f800000u}, // just below the tie
      {0x3f801001u, 0x3f802000u}, // just above
      {0x3f803000u, 0x3f804000u}, // 1 + 3 * 2^-11
      {0x00001000u, 0x00002000u}, // subnormal tie
      {0x7f7fffffu, 0x7f800000u}, // the largest float rounds to infinity
      {0xff800000u, 0xff800000u}, // -infinity stays
  };
  std::vector<float> in;
  for (auto [bits, expected] : cases)
    in.push_back(bitsFloat(bits));
  in.push_back(std::nanf(""));
  std::vector<uint32_t> out(in.size());
  runToTf32(in.data(), out.data(), static_cast<int>(in.size()));
  for (size_t i = 0; i + 1 < in.size(); ++i)
    EXPECT_EQ(out[i], cases[i].second) << std::hex << cases[i].first;
  EXPECT_TRUE(std::isnan(bitsFloat(out.back())));
}

/// Copies land at the wait that covers their group, zero-filled where the
/// source size is 0.
TEST(PtxEmulation, CpAsyncLandsAtWaitGroupWithZeroFill) {
  const uint32_t src[3] = {0x11111111u, 0x22222222u, 0x33333333u};
  uint32_t snapshots[4][3];
  runCpAsync(src, snapshots);
  const uint32_t old = 0xdeadbeefu;
  const uint32_t expected[4][3] = {{old, old, old},
                                   {old, old, old},
                                   {0x11111111u, 0, old},
                                   {0x11111111u, 0, 0x33333333u}};
  for (int step = 0; step < 4; ++step)
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(snapshots[step][i], expected[step][i])
          << "step " << step << " word " << i;
}

} // namespace
