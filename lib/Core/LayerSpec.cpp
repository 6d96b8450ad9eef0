//===- LayerSpec.cpp - a layer's backward, and the rules it obeys ---------===//

#include "ssprop/Core/LayerSpec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ssprop {

const char *getSelectName(Select select) {
  return select == Select::topk ? "topk" : "random";
}

std::optional<Select> parseSelect(const std::string &name) {
  if (name == "topk")
    return Select::topk;
  if (name == "random")
    return Select::random;
  return std::nullopt;
}

int64_t keptChannels(double keep, int64_t channels) {
  const auto kept =
      static_cast<int64_t>(std::floor(keep * static_cast<double>(channels)));
  return std::min(std::max<int64_t>(kept, 1), channels);
}

std::string formatKeep(double keep) {
  if (!std::isfinite(keep))
    return std::isnan(keep) ? "nan" : (keep > 0 ? "inf" : "-inf");
  char text[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof(text), "%.*g", precision, keep);
    if (std::strtod(text, nullptr) == keep)
      break;
  }
  std::string literal = text;
  if (literal.find('.') == std::string::npos) {
    size_t exponent = literal.find('e');
    literal.insert(exponent == std::string::npos ? literal.size() : exponent,
                   ".0");
  }
  return literal;
}

std::optional<int64_t> getConvOutputSize(int64_t inputSize, int64_t kernelSize,
                                         int64_t stride, int64_t padding,
                                         int64_t dilation) {
  // span = inputSize + 2 * padding - dilation * (kernelSize - 1) - 1
  int64_t twicePadding, reach, padded, beyond, span;
  if (__builtin_mul_overflow(padding, int64_t(2), &twicePadding) ||
      __builtin_mul_overflow(dilation, kernelSize - 1, &reach) ||
      __builtin_add_overflow(inputSize, twicePadding, &padded) ||
      __builtin_sub_overflow(padded, reach, &beyond) ||
      __builtin_sub_overflow(beyond, int64_t(1), &span))
    return std::nullopt;
  if (span < 0)
    return -1;
  return span / stride + 1;
}

int64_t ConvLayerSpec::getOutputSize(int axis) const {
  return getConvOutputSize(inputShape[2 + axis], weightShape[2 + axis],
                           stride[axis], padding[axis], dilation[axis])
      .value_or(-1);
}

double ConvLayerSpec::getFlopsPerOutputChannel() const {
  return 2.0 * static_cast<double>(inputShape[0]) *
         static_cast<double>(getOutputSize(0)) *
         static_cast<double>(getOutputSize(1)) *
         static_cast<double>(weightShape[1]) *
         static_cast<double>(weightShape[2]) *
         static_cast<double>(weightShape[3]);
}

std::string getGeometryError(const ConvLayerSpec &spec) {
  for (int i = 0; i < 4; ++i)
    if (spec.inputShape[i] < 1 || spec.weightShape[i] < 1)
      return "every input and weight dimension must be >= 1";
  for (int axis = 0; axis < 2; ++axis) {
    if (spec.stride[axis] < 1 || spec.dilation[axis] < 1 ||
        spec.padding[axis] < 0)
      return "stride and dilation must be >= 1 and padding >= 0";
    std::optional<int64_t> size = getConvOutputSize(
        spec.inputShape[2 + axis], spec.weightShape[2 + axis],
        spec.stride[axis], spec.padding[axis], spec.dilation[axis]);
    if (!size)
      return "the convolution geometry overflows 64-bit arithmetic";
    if (*size < 1)
      return "the dilated kernel does not fit in the padded input";
  }
  return "";
}

bool isPointwise(const ConvGeometry &g) {
  return g.kernel == std::array<int64_t, 2>{1, 1} &&
         g.stride == std::array<int64_t, 2>{1, 1} &&
         g.padding == std::array<int64_t, 2>{0, 0};
}

bool isPlainGemm(const ConvGeometry &g) {
  return isPointwise(g) && g.groups == 1;
}

} // namespace ssprop
