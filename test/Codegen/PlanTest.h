//===- PlanTest.h - running a layer's plan against the reference -*- C++
//-*-===//
//
// What the codegen tests of both emitters share: host copies of a plan's
// buffers with guard zones, random arguments in the layer's element type,
// and the checks of a finished run against the naive reference of
// Reference.h (the kept list, the top-k order, every gradient, exact zeros
// in dropped rows). Each test supplies how the plan runs.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_PLANTEST_H
#define SSPROP_TEST_CODEGEN_PLANTEST_H

#include "Reference.h"

#include "ssprop/Core/KernelPlan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ssprop::test {

/// Host copies of a plan's buffers, stored in each buffer's element type
/// (scratch buffers once per worker). Each is followed by a guard zone that
/// a kernel writing out of bounds would disturb.
struct Buffers {
  static constexpr size_t kGuardBytes = 256;
  static constexpr uint8_t kGuard = 0x5a;
  /// Each buffer's bytes followed by its guard zone.
  std::vector<std::vector<uint8_t>> bytes;

  explicit Buffers(const KernelPlan &plan, int workers = 1) {
    for (const BufferSpec &buffer : plan.buffers) {
      size_t size = buffer.numElements * getElementSize(buffer.type) *
                    (buffer.role == BufferSpec::Role::Scratch ? workers : 1);
      // Poison temporaries and results so that an unwritten element shows.
      bytes.emplace_back(size + kGuardBytes,
                         buffer.role == BufferSpec::Role::Argument ? 0 : 0x7f);
      std::fill(bytes.back().begin() + size, bytes.back().end(), kGuard);
    }
  }

  std::vector<void *> getPointers() {
    std::vector<void *> pointers;
    for (auto &buffer : bytes)
      pointers.push_back(buffer.data());
    return pointers;
  }

  /// The number of the first buffer whose guard zone was written, or -1.
  int findOverrun() const {
    for (size_t i = 0; i < bytes.size(); ++i)
      if (std::any_of(bytes[i].end() - kGuardBytes, bytes[i].end(),
                      [](uint8_t b) { return b != kGuard; }))
        return static_cast<int>(i);
    return -1;
  }
};

inline float readElement(const std::vector<uint8_t> &bytes, ElementType type,
                         int64_t i) {
  switch (type) {
  case ElementType::f32:
    return reinterpret_cast<const float *>(bytes.data())[i];
  case ElementType::f16:
    return fromHalf(reinterpret_cast<const uint16_t *>(bytes.data())[i]);
  case ElementType::bf16:
    return fromBFloat16(reinterpret_cast<const uint16_t *>(bytes.data())[i]);
  case ElementType::i32:
    return static_cast<float>(reinterpret_cast<const int *>(bytes.data())[i]);
  }
  return 0;
}

/// Fills `count` elements with uniform values in [-1, 1], returning them as
/// floats exactly as stored (rounded to the element type).
inline std::vector<float> fillRandom(std::vector<uint8_t> &bytes, int64_t count,
                                     ElementType type, std::mt19937 &rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (int64_t i = 0; i < count; ++i) {
    float v = uniform(rng);
    if (type == ElementType::f32)
      reinterpret_cast<float *>(bytes.data())[i] = v;
    else if (type == ElementType::f16)
      reinterpret_cast<uint16_t *>(bytes.data())[i] = toHalf(v);
    else
      reinterpret_cast<uint16_t *>(bytes.data())[i] = toBFloat16(v);
    values[i] = readElement(bytes, type, i);
  }
  return values;
}

inline const BufferSpec *findBuffer(const KernelPlan &plan,
                                    BufferSpec::Role role, int index,
                                    const std::string &name = "") {
  for (const BufferSpec &buffer : plan.buffers)
    if (buffer.role == role && (index < 0 || buffer.index == index) &&
        (name.empty() || buffer.name == name))
      return &buffer;
  return nullptr;
}

inline int bufferNumber(const KernelPlan &plan, const BufferSpec *buffer) {
  return static_cast<int>(buffer - plan.buffers.data());
}

inline void expectClose(const std::string &what,
                        const std::vector<uint8_t> &bytes, ElementType type,
                        const std::vector<double> &reference, double relative) {
  double scale = 0;
  for (double r : reference)
    scale = std::max(scale, std::fabs(r));
  double tolerance = relative * std::max(scale, 1e-6);
  int reported = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    double got = readElement(bytes, type, static_cast<int64_t>(i));
    if (!(std::fabs(got - reference[i]) <= tolerance) && reported++ < 5)
      ADD_FAILURE() << what << "[" << i << "] = " << got << ", reference "
                    << reference[i] << " (tolerance " << tolerance << ")";
  }
}

/// The relative tolerances of one run's gradients.
struct Tolerances {
  /// Of a GEMM result reduced over `length` products.
  std::function<double(int64_t length)> gemm;
  double bias;
};

/// Fills the plan's arguments with random data, runs it (`run` returns
/// after the last kernel), and checks the kept list (`keptBufferSize`
/// elements, the first k ascending distinct channels), the top-k order, every
/// gradient against the reference and the zeros of dropped channels.
inline void checkLayerPlan(const ConvLayerSpec &spec, const KernelPlan &plan,
                           int64_t keptBufferSize,
                           const std::function<void(Buffers &)> &run,
                           const Tolerances &tolerances, int workers = 1) {
  // Arguments: grad_output, input, weight (a layer without an input gradient
  // never reads its weight, so the plan may lack that buffer).
  const int64_t dyH = spec.getOutputSize(0), dyW = spec.getOutputSize(1);
  const int64_t argSizes[3] = {spec.inputShape[0] * spec.weightShape[0] * dyH *
                                   dyW,
                               spec.inputShape[0] * spec.inputShape[1] *
                                   spec.inputShape[2] * spec.inputShape[3],
                               spec.weightShape[0] * spec.weightShape[1] *
                                   spec.weightShape[2] * spec.weightShape[3]};
  Buffers buffers(plan, workers);
  std::mt19937 rng(42);
  std::vector<std::vector<float>> args(3);
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> bytes(argSizes[i] * getElementSize(spec.dtype));
    args[i] = fillRandom(bytes, argSizes[i], spec.dtype, rng);
    if (const BufferSpec *arg =
            findBuffer(plan, BufferSpec::Role::Argument, i)) {
      ASSERT_EQ(arg->numElements, argSizes[i]) << "argument " << i;
      std::copy(bytes.begin(), bytes.end(),
                buffers.bytes[bufferNumber(plan, arg)].begin());
    } else {
      ASSERT_TRUE(i == 2 && !spec.needInputGrad) << "argument " << i;
    }
  }
  run(buffers);
  if (::testing::Test::HasFatalFailure())
    return;

  // Which channels were kept: the kept list, or all of them when dense.
  const int64_t cout = spec.weightShape[0];
  int64_t expectedK =
      std::max<int64_t>(static_cast<int64_t>(std::floor(spec.keep * cout)), 1);
  std::vector<bool> keptMask(cout, expectedK == cout);
  std::vector<int> keptList;
  if (const BufferSpec *kept =
          findBuffer(plan, BufferSpec::Role::Temporary, -1, "kept")) {
    ASSERT_EQ(kept->numElements, keptBufferSize);
    const int *list = reinterpret_cast<const int *>(
        buffers.bytes[bufferNumber(plan, kept)].data());
    keptList.assign(list, list + expectedK);
    for (size_t i = 0; i < keptList.size(); ++i) {
      ASSERT_TRUE(keptList[i] >= 0 && keptList[i] < cout) << keptList[i];
      if (i) {
        ASSERT_LT(keptList[i - 1], keptList[i]) << "kept list not ascending";
      }
      keptMask[keptList[i]] = true;
    }
  } else {
    ASSERT_EQ(expectedK, cout) << "a sparse layer needs a kept list";
  }

  // Top-k: no dropped channel may score above a kept one (ties aside).
  const auto &dy = args[0];
  if (spec.select == Select::topk && !keptList.empty()) {
    std::vector<double> scores = referenceScores(spec, dy, dyH, dyW);
    double lowestKept = 1e300, highestDropped = -1e300;
    for (int64_t c = 0; c < cout; ++c)
      (keptMask[c] ? lowestKept : highestDropped) =
          keptMask[c] ? std::min(lowestKept, scores[c])
                      : std::max(highestDropped, scores[c]);
    EXPECT_GE(lowestKept, highestDropped * (1 - 1e-6)) << "not the top k";
  }

  ReferenceGrads ref =
      referenceBackward(spec, args[1], args[2], dy, keptMask, dyH, dyW);
  // Reduction lengths: wgrad over (N, Ho, Wo), dgrad over (k_g, KH, KW).
  const int64_t taps = spec.weightShape[2] * spec.weightShape[3];
  auto result = [&](int index) -> const std::vector<uint8_t> & {
    const BufferSpec *buffer =
        findBuffer(plan, BufferSpec::Role::Result, index);
    EXPECT_NE(buffer, nullptr) << "result " << index;
    return buffers.bytes[bufferNumber(plan, buffer)];
  };
  expectClose("grad_weight", result(0), spec.dtype, ref.gradWeight,
              tolerances.gemm(spec.inputShape[0] * dyH * dyW));
  expectClose("grad_bias", result(1), spec.dtype, ref.gradBias,
              tolerances.bias);
  if (spec.needInputGrad)
    expectClose("grad_input", result(2), spec.dtype, ref.gradInput,
                tolerances.gemm(cout / spec.groups * taps));
  else
    EXPECT_EQ(findBuffer(plan, BufferSpec::Role::Result, 2), nullptr);

  // Dropped channels' weight and bias gradients are exactly zero.
  int64_t rowSize = static_cast<int64_t>(ref.gradWeight.size()) / cout;
  for (int64_t c = 0; c < cout; ++c) {
    if (keptMask[c])
      continue;
    EXPECT_EQ(readElement(result(1), spec.dtype, c), 0.0f) << "bias " << c;
    for (int64_t j = 0; j < rowSize; ++j)
      ASSERT_EQ(readElement(result(0), spec.dtype, c * rowSize + j), 0.0f)
          << "weight row " << c;
  }
}

/// Fills the arguments of `plan` (f32) with random data, edits them with
/// `adjust(index, data, count)`, runs the plan and returns its kept list.
inline std::vector<int>
runAndReadKept(const KernelPlan &plan, int64_t numKept,
               const std::function<void(Buffers &)> &run,
               const std::function<void(int, float *, int64_t)> &adjust) {
  Buffers buffers(plan);
  std::mt19937 rng(7);
  for (int i = 0; i < 3; ++i) {
    const BufferSpec *arg = findBuffer(plan, BufferSpec::Role::Argument, i);
    if (!arg)
      continue;
    std::vector<uint8_t> &bytes = buffers.bytes[bufferNumber(plan, arg)];
    fillRandom(bytes, arg->numElements, arg->type, rng);
    if (adjust)
      adjust(i, reinterpret_cast<float *>(bytes.data()), arg->numElements);
  }
  run(buffers);
  const BufferSpec *kept =
      findBuffer(plan, BufferSpec::Role::Temporary, -1, "kept");
  const int *list = reinterpret_cast<const int *>(
      buffers.bytes[bufferNumber(plan, kept)].data());
  return std::vector<int>(list, list + numKept);
}

/// Runs a layer's plan on dy edited by `adjust` and returns its kept list.
using KeptReader = std::function<std::vector<int>(
    const ConvLayerSpec &spec,
    const std::function<void(int, float *, int64_t)> &adjust)>;

/// Equal scores: exactly k channels are kept, the lowest-numbered ones.
inline void expectTiesKeepTheLowestChannels(const KeptReader &read) {
  ConvLayerSpec spec = makeSpec({2, 4, 4, 4}, {40, 4, 1, 1}, 0.25);
  std::vector<int> kept = read(spec, [](int, float *data, int64_t count) {
    std::fill(data, data + count, 0.5f);
  });
  std::vector<int> lowest(10);
  for (int c = 0; c < 10; ++c)
    lowest[c] = c;
  EXPECT_EQ(kept, lowest);
}

/// NaN and infinite gradients: a channel holding NaN scores highest, then
/// infinite ones; the list stays k valid, ascending, distinct channels, the
/// same on every run.
inline void expectNaNAndInfinityGiveAValidSelection(const KeptReader &read) {
  ConvLayerSpec spec = makeSpec({2, 4, 4, 4}, {16, 4, 1, 1}, 0.25);
  auto poison = [](int index, float *dy, int64_t) {
    if (index != 0)
      return;
    const int64_t plane = 4 * 4, channels = 16;
    dy[3 * plane + 5] = std::numeric_limits<float>::quiet_NaN();
    dy[(channels + 7) * plane] = std::numeric_limits<float>::infinity();
    dy[9 * plane + 1] = -std::numeric_limits<float>::infinity();
  };
  std::vector<int> kept = read(spec, poison);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_EQ(std::set<int>(kept.begin(), kept.end()).size(), 4u);
  for (int channel : {3, 7, 9})
    EXPECT_NE(std::find(kept.begin(), kept.end(), channel), kept.end())
        << "channel " << channel;
  EXPECT_EQ(kept, read(spec, poison));
}

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_PLANTEST_H
