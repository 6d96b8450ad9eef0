//===- LayerSpec.h - a layer's backward, and the rules it obeys -*- C++ -*-===//
//
// Plain C++ shared by every part of ssprop (dialect, lowering, compiler
// facade, runtime, bridge): what a convolution's backward is, how many
// channels it keeps, and when it is a plain GEMM. Each rule is defined here
// once; the others call it.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_LAYERSPEC_H
#define SSPROP_CORE_LAYERSPEC_H

#include "ssprop/Core/KernelPlan.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace ssprop {

/// How the kept channels are chosen.
enum class Select { topk, random };

/// `topk`, `random`.
const char *getSelectName(Select select);
std::optional<Select> parseSelect(const std::string &name);

/// k = max(floor(keep * channels), 1), at most `channels`, in double
/// precision (the authors' int(keep * Cout)): the number of channels the
/// backward keeps. keep must be in (0, 1].
int64_t keptChannels(double keep, int64_t channels);

/// keep as the IR writes it: the shortest decimal that reads back as the same
/// double, always with a `.` so that it lexes as a float (`0.4`, `1.0`,
/// `1.0e-08`); `nan`, `inf`, `-inf` for those.
std::string formatKeep(double keep);

/// The output size of a convolution along one axis,
/// floor((input + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
/// -1 when the dilated kernel does not fit in the padded input, std::nullopt
/// when the arithmetic overflows 64 bits. stride must be >= 1.
std::optional<int64_t> getConvOutputSize(int64_t inputSize, int64_t kernelSize,
                                         int64_t stride, int64_t padding,
                                         int64_t dilation);

/// The geometry of a convolution that decides how its GEMMs address memory.
struct ConvGeometry {
  std::array<int64_t, 2> kernel{1, 1}; ///< KH, KW
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0};
  int64_t groups = 1;
};

/// True for a 1x1 convolution with stride 1 and no padding: each group's
/// GEMMs read their operands without im2col addressing.
bool isPointwise(const ConvGeometry &geometry);

/// A pointwise convolution with one group: per image, its backward is two
/// plain matrix products.
bool isPlainGemm(const ConvGeometry &geometry);

/// One convolution's backward: the key of everything the compiler specialises.
struct ConvLayerSpec {
  std::array<int64_t, 4> inputShape;  ///< N, Cin, H, W
  std::array<int64_t, 4> weightShape; ///< Cout, Cin / groups, KH, KW
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  ElementType dtype = ElementType::f32;
  double keep = 1.0;
  Select select = Select::topk;
  bool weightOnly = false;
  /// False for a network's first layer: no input gradient is computed.
  bool needInputGrad = true;

  /// keptChannels(keep, Cout). Everything compiled for a layer depends on
  /// keep only through k.
  int64_t getNumKept() const { return keptChannels(keep, weightShape[0]); }
  ConvGeometry getGeometry() const {
    return {{weightShape[2], weightShape[3]}, stride, padding, groups};
  }
  /// The output size along `axis` (0: H, 1: W); -1 if the kernel does not
  /// fit.
  int64_t getOutputSize(int axis) const;
  /// FLOPs of one GEMM (wgrad or dgrad) per output channel:
  /// 2 * N * Ho * Wo * Cin/groups * KH * KW.
  double getFlopsPerOutputChannel() const;
};

/// Why `spec` cannot be written as IR types, "" when it can: a dimension
/// below 1, a stride or dilation below 1 or a negative padding, a geometry
/// overflowing 64 bits, or a dilated kernel larger than the padded input.
/// The IR verifier checks every other relation.
std::string getGeometryError(const ConvLayerSpec &spec);

} // namespace ssprop

#endif // SSPROP_CORE_LAYERSPEC_H
