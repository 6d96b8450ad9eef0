//===- Reference.h - naive ssProp convolution backward ---------*- C++ -*-===//
//
// The independent oracle of the codegen tests: the dense backward of a
// convolution, in double precision with plain loops, computed from grad_output
// with the dropped channels set to zero (the definition of ssProp's
// gradients). Nothing here shares code with the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_REFERENCE_H
#define SSPROP_TEST_CODEGEN_REFERENCE_H

#include "ssprop/Compiler/Compiler.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ssprop::test {

struct ReferenceGrads {
  std::vector<double> gradInput, gradWeight, gradBias;
};

/// Mean |dy| per output channel.
inline std::vector<double> referenceScores(const ConvLayerSpec &spec,
                                           const std::vector<float> &dy,
                                           int64_t outH, int64_t outW) {
  int64_t n = spec.inputShape[0], channels = spec.weightShape[0];
  std::vector<double> scores(channels, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < outH * outW; ++p)
        scores[c] += std::fabs(dy[(b * channels + c) * outH * outW + p]);
  for (double &score : scores)
    score /= static_cast<double>(n * outH * outW);
  return scores;
}

/// The gradients of conv2d(x, w) given dy, with channel c of dy zeroed where
/// keptMask[c] is false (for grad_input too unless weightOnly).
inline ReferenceGrads referenceBackward(const ConvLayerSpec &spec,
                                        const std::vector<float> &x,
                                        const std::vector<float> &w,
                                        const std::vector<float> &dy,
                                        const std::vector<bool> &keptMask,
                                        int64_t outH, int64_t outW) {
  const auto [n, cin, h, wd] = spec.inputShape;
  const auto [cout, cinG, kh, kw] = spec.weightShape;
  const int64_t coutG = cout / spec.groups;
  ReferenceGrads g;
  g.gradInput.assign(n * cin * h * wd, 0.0);
  g.gradWeight.assign(cout * cinG * kh * kw, 0.0);
  g.gradBias.assign(cout, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < cout; ++c) {
      const int64_t group = c / coutG;
      for (int64_t oh = 0; oh < outH; ++oh)
        for (int64_t ow = 0; ow < outW; ++ow) {
          const double d = dy[((b * cout + c) * outH + oh) * outW + ow];
          const bool kept = keptMask[c];
          if (kept)
            g.gradBias[c] += d;
          for (int64_t ci = 0; ci < cinG; ++ci)
            for (int64_t r = 0; r < kh; ++r)
              for (int64_t s = 0; s < kw; ++s) {
                int64_t ih = oh * spec.stride[0] - spec.padding[0] +
                             r * spec.dilation[0];
                int64_t iw = ow * spec.stride[1] - spec.padding[1] +
                             s * spec.dilation[1];
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd)
                  continue;
                int64_t xi = ((b * cin + group * cinG + ci) * h + ih) * wd + iw;
                int64_t wi = ((c * cinG + ci) * kh + r) * kw + s;
                if (kept)
                  g.gradWeight[wi] += d * x[xi];
                if (kept || spec.weightOnly)
                  g.gradInput[xi] += d * w[wi];
              }
        }
    }
  return g;
}

//===----------------------------------------------------------------------===//
// IEEE half and bfloat16, written out independently of any CUDA header
//===----------------------------------------------------------------------===//

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

inline float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// Round to nearest even; the test data are normal numbers well in range.
inline uint16_t toHalf(float value) {
  uint32_t f = floatBits(value);
  uint32_t sign = (f >> 16) & 0x8000u;
  int32_t exponent = static_cast<int32_t>((f >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = f & 0x7fffffu;
  if ((f & 0x7fffffffu) == 0)
    return static_cast<uint16_t>(sign);
  if (exponent <= 0) // subnormal halves: value / 2^-24, rounded to even
    return static_cast<uint16_t>(
        sign | static_cast<uint32_t>(std::nearbyint(std::fabs(value) * 16777216.0f)));
  uint32_t half = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
    ++half;
  return static_cast<uint16_t>(half);
}

inline float fromHalf(uint16_t bits) {
  uint32_t sign = (bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ffu;
  if (exponent == 0)
    return (sign ? -1.0f : 1.0f) * static_cast<float>(mantissa) / 16777216.0f;
  return bitsFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

inline uint16_t toBFloat16(float value) {
  uint32_t f = floatBits(value);
  uint32_t rounding = 0x7fffu + ((f >> 16) & 1u);
  return static_cast<uint16_t>((f + rounding) >> 16);
}

inline float fromBFloat16(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_REFERENCE_H
