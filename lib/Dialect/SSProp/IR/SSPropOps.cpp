//===- SSPropOps.cpp - ssprop operations ----------------------------------===//

#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"

#include "ssprop/Core/LayerSpec.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::ssprop;

std::string mlir::ssprop::formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(
      shape, os,
      [&](int64_t dim) {
        if (ShapedType::isDynamic(dim))
          os << '?';
        else
          os << dim;
      },
      "x");
  return text;
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

static bool isStatic(int64_t dim) { return !ShapedType::isDynamic(dim); }

/// Checks that two sizes agree where both are known.
static bool conflict(int64_t a, int64_t b) {
  return isStatic(a) && isStatic(b) && a != b;
}

//===----------------------------------------------------------------------===//
// Convolution shape relations, shared by conv2d_backward, dgrad and wgrad
//===----------------------------------------------------------------------===//

namespace {
/// A tensor taking part in a convolution, with the name diagnostics use.
struct ConvOperand {
  ArrayRef<int64_t> shape;
  StringRef name;
};

/// Verifies the relations between the three tensors of a convolution
/// (grad_output `dy` [N, Cout, Ho, Wo], input `x` [N, Cin, H, W] and weight
/// `w` [Cout or rows, Cin / groups, KH, KW]) and its geometry attributes.
/// Relations involving a dynamic dimension are skipped.
class ConvChecker {
public:
  ConvChecker(Operation *op, ArrayRef<int64_t> stride,
              ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
              int64_t groups, ConvOperand dy, ConvOperand x, ConvOperand w)
      : op(op), stride(stride), padding(padding), dilation(dilation),
        groups(groups), dy(dy), x(x), w(w) {}

  /// Everything, for ops whose weight holds all output channels.
  LogicalResult verifyAll() {
    return success(succeeded(verifyGeometry()) && succeeded(verifyBatch()) &&
                   succeeded(verifyOutChannels()) &&
                   succeeded(verifyGroups(outChannels())) &&
                   succeeded(verifySpatial()));
  }

  LogicalResult verifyGeometry() {
    if (failed(verifyPair("stride", stride, 1)) ||
        failed(verifyPair("padding", padding, 0)) ||
        failed(verifyPair("dilation", dilation, 1)))
      return failure();
    if (groups < 1)
      return op->emitOpError() << "expected groups >= 1, got " << groups;
    return success();
  }

  LogicalResult verifyBatch() {
    if (conflict(dy.shape[0], x.shape[0]))
      return op->emitOpError() << "expected " << dy.name << " batch "
                               << x.shape[0] << " (the batch of " << x.name
                               << "), got " << dy.shape[0];
    return success();
  }

  LogicalResult verifyOutChannels() {
    if (conflict(dy.shape[1], w.shape[0]))
      return op->emitOpError()
             << "expected " << dy.name << " channels " << w.shape[0]
             << " (the output channels of " << w.name << "), got "
             << dy.shape[1];
    return success();
  }

  /// Cout (from the weight or grad_output), or dynamic.
  int64_t outChannels() const {
    return isStatic(w.shape[0]) ? w.shape[0] : dy.shape[1];
  }

  LogicalResult verifyGroups(int64_t outChannels) {
    int64_t inChannels = x.shape[1];
    if (isStatic(inChannels) && inChannels % groups != 0)
      return op->emitOpError() << "expected " << x.name << " channels "
                               << inChannels << " to be divisible by groups "
                               << groups;
    if (isStatic(outChannels) && outChannels % groups != 0)
      return op->emitOpError() << "expected output channels " << outChannels
                               << " to be divisible by groups " << groups;
    if (isStatic(inChannels) && conflict(w.shape[1], inChannels / groups))
      return op->emitOpError()
             << "expected " << w.name << " input channels per group "
             << inChannels / groups << " (" << x.name << " channels "
             << inChannels << " / groups " << groups << "), got "
             << w.shape[1];
    return success();
  }

  LogicalResult verifySpatial() {
    return success(succeeded(verifySpatialAxis(0, "height")) &&
                   succeeded(verifySpatialAxis(1, "width")));
  }

private:
  LogicalResult verifyPair(StringRef name, ArrayRef<int64_t> values,
                           int64_t minimum) {
    if (values.size() != 2)
      return op->emitOpError() << "expected " << name
                               << " to have 2 elements (height, width), got "
                               << values.size();
    if (llvm::any_of(values, [&](int64_t v) { return v < minimum; }))
      return op->emitOpError()
             << "expected " << name << " elements >= " << minimum << ", got ["
             << values[0] << ", " << values[1] << "]";
    return success();
  }

  LogicalResult verifySpatialAxis(unsigned i, StringRef dimName) {
    int64_t in = x.shape[2 + i], kernel = w.shape[2 + i], out = dy.shape[2 + i];
    if (!isStatic(in) || !isStatic(kernel))
      return success();
    std::optional<int64_t> size = ::ssprop::getConvOutputSize(
        in, kernel, stride[i], padding[i], dilation[i]);
    if (!size)
      return op->emitOpError()
             << x.name << " " << dimName << " " << in << " with kernel "
             << kernel << ", padding " << padding[i] << " and dilation "
             << dilation[i] << " overflows 64-bit arithmetic";
    int64_t expected = *size;
    if (expected < 1)
      return op->emitOpError()
             << x.name << " " << dimName << " " << in << " with padding "
             << padding[i] << " is smaller than the dilated kernel " << dimName
             << " " << dilation[i] * (kernel - 1) + 1 << " (kernel " << kernel
             << ", dilation " << dilation[i] << ")";
    if (conflict(out, expected))
      return op->emitOpError()
             << "expected " << dy.name << " " << dimName << " " << expected
             << " (" << x.name << " " << dimName << " " << in << ", kernel "
             << kernel << ", stride " << stride[i] << ", padding "
             << padding[i] << ", dilation " << dilation[i] << "), got " << out;
    return success();
  }

  Operation *op;
  ArrayRef<int64_t> stride, padding, dilation;
  int64_t groups;
  ConvOperand dy, x, w;
};
} // namespace

/// Checks that `value`'s element type is `expected`.
static LogicalResult verifyElementType(Operation *op, Value value,
                                       StringRef name, Type expected,
                                       StringRef origin) {
  Type actual = getElementTypeOrSelf(value.getType());
  if (actual == expected)
    return success();
  return op->emitOpError() << "expected " << name << " element type "
                           << expected << " (" << origin << "), got " << actual;
}

/// Checks that a result's shape is compatible with the one it must have.
static LogicalResult verifyShape(Operation *op, Value value, StringRef name,
                                 ArrayRef<int64_t> expected, StringRef origin) {
  ArrayRef<int64_t> actual = shapeOf(value);
  if (succeeded(verifyCompatibleShape(actual, expected)))
    return success();
  return op->emitOpError() << "expected " << name << " shape "
                           << formatShape(expected) << " (" << origin
                           << "), got " << formatShape(actual);
}

//===----------------------------------------------------------------------===//
// Conv2DBackwardOp
//===----------------------------------------------------------------------===//

void Conv2DBackwardOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getGradInput(), "grad_input");
  setNameFn(getGradWeight(), "grad_weight");
  setNameFn(getGradBias(), "grad_bias");
}

LogicalResult Conv2DBackwardOp::verify() {
  ConvChecker checker(*this, getStride(), getPadding(), getDilation(),
                      getGroupsAttr().getInt(), {shapeOf(getGradOutput()), "grad_output"},
                      {shapeOf(getInput()), "input"},
                      {shapeOf(getWeight()), "weight"});
  Type elementType = getGradOutput().getType().getElementType();
  auto sameType = [&](Value value, StringRef name) {
    return succeeded(verifyElementType(*this, value, name, elementType,
                                       "the element type of grad_output"));
  };
  if (!sameType(getInput(), "input") || !sameType(getWeight(), "weight") ||
      !sameType(getGradInput(), "grad_input") ||
      !sameType(getGradWeight(), "grad_weight") ||
      !sameType(getGradBias(), "grad_bias"))
    return failure();
  if (failed(checker.verifyAll()))
    return failure();
  return success(
      succeeded(verifyShape(*this, getGradInput(), "grad_input",
                            shapeOf(getInput()), "the shape of input")) &&
      succeeded(verifyShape(*this, getGradWeight(), "grad_weight",
                            shapeOf(getWeight()), "the shape of weight")) &&
      succeeded(verifyShape(*this, getGradBias(), "grad_bias",
                            {checker.outChannels()}, "the output channels")));
}

//===----------------------------------------------------------------------===//
// GEMM inference
//===----------------------------------------------------------------------===//

std::optional<int64_t>
mlir::ssprop::checkedProduct(ArrayRef<int64_t> factors) {
  std::optional<int64_t> product = 1;
  for (int64_t factor : factors)
    if (product)
      product = llvm::checkedMul(*product, factor);
  return product;
}

Addressing mlir::ssprop::inferAddressing(ArrayRef<int64_t> weightShape,
                                         ArrayRef<int64_t> stride,
                                         ArrayRef<int64_t> padding) {
  if (weightShape.size() != 4 || stride.size() != 2 || padding.size() != 2)
    return Addressing::im2col; // the verifier reports the malformed op
  ::ssprop::ConvGeometry geometry;
  geometry.kernel = {weightShape[2], weightShape[3]};
  geometry.stride = {stride[0], stride[1]};
  geometry.padding = {padding[0], padding[1]};
  return ::ssprop::isPointwise(geometry) ? Addressing::plain
                                         : Addressing::im2col;
}

GemmAttr mlir::ssprop::inferDgradGemm(MLIRContext *context,
                                      ArrayRef<int64_t> gradInputShape,
                                      ArrayRef<int64_t> weightShape,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> padding, int64_t groups,
                                      std::optional<int64_t> numKept) {
  if (!llvm::all_of(gradInputShape, isStatic) ||
      !llvm::all_of(weightShape, isStatic))
    return {};
  auto [n, inChannels, height, width] =
      std::make_tuple(gradInputShape[0], gradInputShape[1], gradInputShape[2],
                      gradInputShape[3]);
  int64_t groupOutChannels = weightShape[0] / groups;
  // With a gather, one group can hold at most all of its own channels.
  int64_t reduced = numKept ? std::min(*numKept, groupOutChannels)
                            : groupOutChannels;
  std::optional<int64_t> m = checkedProduct({n, height, width});
  std::optional<int64_t> k =
      checkedProduct({reduced, weightShape[2], weightShape[3]});
  if (!m || !k)
    return {};
  return GemmAttr::get(context, groups, *m, inChannels / groups, *k,
                       Float32Type::get(context),
                       inferAddressing(weightShape, stride, padding));
}

GemmAttr mlir::ssprop::inferWgradGemm(MLIRContext *context,
                                      ArrayRef<int64_t> inputShape,
                                      ArrayRef<int64_t> gradOutputShape,
                                      ArrayRef<int64_t> gradWeightShape,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> padding,
                                      int64_t groups) {
  if (!llvm::all_of(inputShape, isStatic) ||
      !llvm::all_of(gradOutputShape, isStatic) ||
      !llvm::all_of(gradWeightShape, isStatic))
    return {};
  std::optional<int64_t> n = checkedProduct(
      {inputShape[1] / groups, gradWeightShape[2], gradWeightShape[3]});
  std::optional<int64_t> k = checkedProduct(
      {gradOutputShape[0], gradOutputShape[2], gradOutputShape[3]});
  if (!n || !k)
    return {};
  return GemmAttr::get(context, /*batch=*/1, gradWeightShape[0], *n, *k,
                       Float32Type::get(context),
                       inferAddressing(gradWeightShape, stride, padding));
}

/// Checks an op's `gemm` attribute against the one its shapes imply.
static LogicalResult verifyGemm(Operation *op, GemmAttr actual,
                                GemmAttr expected) {
  if (!expected || actual == expected)
    return success();
  return op->emitOpError() << "expected gemm " << expected
                           << " (from the shapes and geometry), got " << actual;
}

/// Checks a gather index list against the channels it selects from.
static LogicalResult verifyGather(Operation *op, Value indices,
                                  int64_t channels) {
  int64_t kept = shapeOf(indices)[0];
  if (isStatic(kept) && kept < 1)
    return op->emitOpError() << "expected at least one gathered channel";
  if (isStatic(kept) && isStatic(channels) && kept > channels)
    return op->emitOpError() << "expected at most " << channels
                             << " gathered channels, got " << kept;
  return success();
}

//===----------------------------------------------------------------------===//
// Selection ops
//===----------------------------------------------------------------------===//

void ChannelScoreOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getScore(), "score");
}

void SelectTopKOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getIndices(), "kept");
}

void RandomSeedOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getSeed(), "seed");
}

void SelectRandomOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getIndices(), "kept");
}

void GroupOffsetsOp::getAsmResultNames(
    function_ref<void(Value, StringRef)> setNameFn) {
  setNameFn(getOffsets(), "group_offsets");
}

LogicalResult ChannelScoreOp::verify() {
  int64_t channels = shapeOf(getGradOutput())[1];
  return verifyShape(*this, getScore(), "score", {channels},
                     "one per channel of grad_output");
}

/// Checks `1 <= k <= channels` and that `indices` holds k entries.
static LogicalResult verifySelection(Operation *op, int64_t k,
                                     int64_t channels, Value indices) {
  if (k < 1 || (isStatic(channels) && k > channels))
    return op->emitOpError() << "expected k in [1, "
                             << (isStatic(channels) ? std::to_string(channels)
                                                    : std::string("?"))
                             << "], got " << k;
  return verifyShape(op, indices, "indices", {k}, "k");
}

LogicalResult SelectTopKOp::verify() {
  return verifySelection(*this, getKAttr().getInt(), shapeOf(getScore())[0],
                         getIndices());
}

LogicalResult SelectRandomOp::verify() {
  int64_t channels = getChannelsAttr().getInt();
  if (channels < 1)
    return emitOpError() << "expected channels >= 1, got " << channels;
  return verifySelection(*this, getKAttr().getInt(), channels, getIndices());
}

LogicalResult GroupOffsetsOp::verify() {
  int64_t groups = getGroupsAttr().getInt(),
          groupSize = getGroupSizeAttr().getInt();
  if (groups < 1 || groupSize < 1)
    return emitOpError() << "expected groups and size >= 1, got groups "
                         << groups << " and size " << groupSize;
  if (failed(verifyGather(*this, getIndices(), groups * groupSize)))
    return failure();
  return verifyShape(*this, getOffsets(), "offsets", {groups + 1},
                     "groups + 1");
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

/// The accumulator must be f32 (the only one the code generator supports);
/// `result` may hold the operands' element type or the accumulator's.
static LogicalResult verifyAccumulation(Operation *op, Type acc, Value result,
                                        StringRef resultName,
                                        Type operandType) {
  if (!acc.isF32())
    return op->emitOpError() << "expected accumulator type f32, got " << acc;
  Type actual = getElementTypeOrSelf(result.getType());
  if (actual != operandType && actual != acc)
    return op->emitOpError()
           << "expected " << resultName << " element type " << operandType
           << " or the accumulator type " << acc << ", got " << actual;
  return success();
}

LogicalResult ChannelSumOp::verify() {
  Type elementType = getGradOutput().getType().getElementType();
  if (failed(verifyAccumulation(*this, getAcc(), getResult(), "result",
                                elementType)))
    return failure();
  int64_t channels = shapeOf(getGradOutput())[1];
  if (!getIndices())
    return verifyShape(*this, getResult(), "result", {channels},
                       "one per channel of grad_output");
  if (failed(verifyGather(*this, getIndices(), channels)))
    return failure();
  return verifyShape(*this, getResult(), "result", shapeOf(getIndices()),
                     "one per gathered channel");
}

LogicalResult GemmAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t batch, int64_t m, int64_t n, int64_t k,
                               Type acc, Addressing) {
  if (batch < 1 || m < 1 || n < 1 || k < 1)
    return emitError() << "gemm sizes must be >= 1, got batch " << batch
                       << ", m " << m << ", n " << n << ", k " << k;
  if (!acc.isF32())
    return emitError() << "gemm accumulator must be f32, got " << acc;
  return success();
}

LogicalResult DgradOp::verify() {
  Type elementType = getGradOutput().getType().getElementType();
  if (failed(verifyElementType(*this, getWeight(), "weight", elementType,
                               "the element type of grad_output")) ||
      failed(verifyElementType(*this, getGradInput(), "grad_input",
                               elementType, "the element type of grad_output")))
    return failure();
  ConvChecker checker(*this, getStride(), getPadding(), getDilation(),
                      getGroupsAttr().getInt(), {shapeOf(getGradOutput()), "grad_output"},
                      {shapeOf(getGradInput()), "grad_input"},
                      {shapeOf(getWeight()), "weight"});
  if (failed(checker.verifyAll()))
    return failure();

  std::optional<int64_t> numKept;
  if (Value indices = getIndices()) {
    if (failed(verifyGather(*this, indices, checker.outChannels())))
      return failure();
    numKept = shapeOf(indices)[0];
  }
  int64_t groups = getGroupsAttr().getInt();
  bool needsOffsets = numKept && groups > 1;
  if (needsOffsets && !getGroupOffsets())
    return emitOpError() << "expected group_offsets: a gathered dgrad with "
                         << groups << " groups must know each group's "
                         << "kept channels";
  if (!needsOffsets && getGroupOffsets())
    return emitOpError() << "unexpected group_offsets: they only apply to a "
                         << "gathered dgrad with groups > 1";
  if (needsOffsets &&
      failed(verifyShape(*this, getGroupOffsets(), "group_offsets",
                         {groups + 1}, "groups + 1")))
    return failure();
  if (numKept && !isStatic(*numKept))
    return success();
  return verifyGemm(*this, getGemm(),
                    inferDgradGemm(getContext(), shapeOf(getGradInput()),
                                   shapeOf(getWeight()), getStride(),
                                   getPadding(), groups, numKept));
}

LogicalResult WgradOp::verify() {
  Type elementType = getGradOutput().getType().getElementType();
  if (failed(verifyElementType(*this, getInput(), "input", elementType,
                               "the element type of grad_output")) ||
      failed(verifyAccumulation(*this, getGemm().getAcc(), getGradWeight(),
                                "grad_weight", elementType)))
    return failure();
  ConvChecker checker(*this, getStride(), getPadding(), getDilation(),
                      getGroupsAttr().getInt(), {shapeOf(getGradOutput()), "grad_output"},
                      {shapeOf(getInput()), "input"},
                      {shapeOf(getGradWeight()), "grad_weight"});
  int64_t channels = shapeOf(getGradOutput())[1];
  if (failed(checker.verifyGeometry()) || failed(checker.verifyBatch()) ||
      failed(checker.verifyGroups(channels)) ||
      failed(checker.verifySpatial()))
    return failure();

  int64_t rows = channels;
  if (Value indices = getIndices()) {
    if (failed(verifyGather(*this, indices, channels)))
      return failure();
    rows = shapeOf(indices)[0];
  }
  if (conflict(shapeOf(getGradWeight())[0], rows))
    return emitOpError() << "expected grad_weight rows " << rows
                         << " (one per " << (getIndices() ? "gathered " : "")
                         << "channel of grad_output), got "
                         << shapeOf(getGradWeight())[0];
  return verifyGemm(*this, getGemm(),
                    inferWgradGemm(getContext(), shapeOf(getInput()),
                                   shapeOf(getGradOutput()),
                                   shapeOf(getGradWeight()), getStride(),
                                   getPadding(), getGroupsAttr().getInt()));
}

LogicalResult ScatterChannelsOp::verify() {
  ArrayRef<int64_t> rows = shapeOf(getRows()), result = shapeOf(getResult());
  if (rows.empty() || rows.size() != result.size())
    return emitOpError() << "expected rows and result of one rank >= 1, got "
                         << rows.size() << " and " << result.size();
  if (failed(verifyCompatibleShape(rows.drop_front(), result.drop_front())))
    return emitOpError() << "expected rows and result to agree past the "
                         << "leading dimension, got " << formatShape(rows)
                         << " and " << formatShape(result);
  if (failed(verifyGather(*this, getIndices(), result[0])))
    return failure();
  return verifyShape(*this, getIndices(), "indices", {rows[0]},
                     "one per row");
}

#define GET_OP_CLASSES
#include "ssprop/Dialect/SSProp/IR/SSPropOps.cpp.inc"
