//===- LowerToGemm.cpp - conv2d_backward to gathered GEMMs ----------------===//
//
// Implements --ssprop-lower-to-gemm: each ssprop.conv2d_backward becomes channel
// selection, gathered implicit-GEMM dgrad/wgrad, a gathered bias reduction and
// the scatters that place the kept rows into zero-filled dense results.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"
#include "ssprop/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::ssprop {
#define GEN_PASS_DEF_SSPROPLOWERTOGEMMPASS
#include "ssprop/Transforms/Passes.h.inc"
} // namespace mlir::ssprop

using namespace mlir;
using namespace mlir::ssprop;

namespace {
/// Lowers one conv2d_backward. The kept-channel list is created on first use,
/// so an op whose gathered results are all unused selects nothing.
class Conv2DBackwardLowering {
public:
  Conv2DBackwardLowering(RewriterBase &rewriter, Conv2DBackwardOp op)
      : rewriter(rewriter), op(op), loc(op.getLoc()),
        accType(rewriter.getF32Type()),
        numChannels(op.getWeight().getType().getDimSize(0)),
        numKept(op.getSparsity().getNumKept(numChannels)) {}

  LogicalResult lower() {
    if (failed(checkStaticShapes()) || failed(checkGemmSizes()))
      return failure();
    rewriter.setInsertionPoint(op);
    replaceIfUsed(op.getGradBias(), [&] { return lowerBias(); });
    replaceIfUsed(op.getGradWeight(), [&] { return lowerWeight(); });
    replaceIfUsed(op.getGradInput(), [&] { return lowerInput(); });
    rewriter.eraseOp(op);
    return success();
  }

private:
  LogicalResult checkStaticShapes() {
    for (auto [value, name] :
         {std::pair<Value, StringRef>{op.getGradOutput(), "grad_output"},
          {op.getInput(), "input"},
          {op.getWeight(), "weight"}}) {
      auto type = cast<RankedTensorType>(value.getType());
      if (!type.hasStaticShape())
        return op.emitOpError()
               << "cannot be lowered to GEMMs: " << name
               << " has a dynamic shape (" << formatShape(type.getShape())
               << "), but the GEMM sizes must be static";
    }
    return success();
  }

  /// The dense GEMMs bound the gathered ones: they must fit in 64 bits.
  LogicalResult checkGemmSizes() {
    auto weight = op.getWeight().getType().getShape();
    bool fits =
        inferDgradGemm(op.getContext(), op.getInput().getType().getShape(),
                       weight, op.getStride(), op.getPadding(), op.getGroups(),
                       std::nullopt) &&
        inferWgradGemm(op.getContext(), op.getInput().getType().getShape(),
                       op.getGradOutput().getType().getShape(), weight,
                       op.getStride(), op.getPadding(), op.getGroups());
    if (fits)
      return success();
    return op.emitOpError()
           << "cannot be lowered to GEMMs: a GEMM size overflows 64-bit "
              "arithmetic";
  }

  /// Every channel kept (keep = 1, or k = Cout): the backward is the dense one.
  bool isDense() const { return numKept == numChannels; }

  template <typename BuildFn>
  void replaceIfUsed(Value result, BuildFn build) {
    if (!result.use_empty())
      rewriter.replaceAllUsesWith(result, build());
  }

  Value keptChannels() {
    if (kept)
      return kept;
    auto indexType = RankedTensorType::get({numKept}, rewriter.getI32Type());
    if (op.getSparsity().getSelect() == SelectKind::topk) {
      auto scoreType = RankedTensorType::get({numChannels}, accType);
      Value score =
          rewriter.create<ChannelScoreOp>(loc, scoreType, op.getGradOutput());
      kept = rewriter.create<SelectTopKOp>(loc, indexType, score, numKept);
    } else {
      Value seed = rewriter.create<RandomSeedOp>(loc, rewriter.getI64Type());
      kept = rewriter.create<SelectRandomOp>(loc, indexType, seed, numKept,
                                             numChannels);
    }
    return kept;
  }

  /// Places compact f32 rows of the kept channels into a zero-filled tensor of
  /// `denseType`.
  Value scatter(Value rows, Type denseType) {
    return rewriter.create<ScatterChannelsOp>(loc, denseType, rows,
                                              keptChannels());
  }

  Value lowerBias() {
    Type biasType = op.getGradBias().getType();
    if (isDense())
      return rewriter.create<ChannelSumOp>(loc, biasType, op.getGradOutput(),
                                           Value(), accType);
    auto sumsType = RankedTensorType::get({numKept}, accType);
    Value sums = rewriter.create<ChannelSumOp>(
        loc, sumsType, op.getGradOutput(), keptChannels(), accType);
    return scatter(sums, biasType);
  }

  Value lowerWeight() {
    auto gradWeightType = op.getGradWeight().getType();
    Value indices = isDense() ? Value() : keptChannels();
    // The GEMM sizes come from the static weight shape (the result type may
    // be less precise).
    SmallVector<int64_t> rowsShape(op.getWeight().getType().getShape());
    rowsShape[0] = isDense() ? numChannels : numKept;
    // Gathered rows stay in the f32 accumulator until the scatter.
    Type rowsType = isDense() ? Type(gradWeightType)
                              : RankedTensorType::get(rowsShape, accType);
    GemmAttr gemm = inferWgradGemm(
        op.getContext(), op.getInput().getType().getShape(),
        op.getGradOutput().getType().getShape(), rowsShape, op.getStride(),
        op.getPadding(), op.getGroups());
    Value rows = rewriter.create<WgradOp>(
        loc, rowsType, op.getInput(), op.getGradOutput(), indices,
        op.getStrideAttr(), op.getPaddingAttr(), op.getDilationAttr(),
        op.getGroupsAttr(), gemm);
    return isDense() ? rows : scatter(rows, gradWeightType);
  }

  Value lowerInput() {
    bool gather =
        !isDense() && op.getSparsity().getGrads() == GradsKind::all;
    int64_t groups = op.getGroups();
    Value indices = gather ? keptChannels() : Value();
    Value offsets;
    if (gather && groups > 1)
      offsets = rewriter.create<GroupOffsetsOp>(
          loc, RankedTensorType::get({groups + 1}, rewriter.getI32Type()),
          indices, groups, numChannels / groups);
    GemmAttr gemm = inferDgradGemm(
        op.getContext(), op.getInput().getType().getShape(),
        op.getWeight().getType().getShape(), op.getStride(), op.getPadding(),
        groups, gather ? std::optional<int64_t>(numKept) : std::nullopt);
    return rewriter.create<DgradOp>(
        loc, op.getGradInput().getType(), op.getGradOutput(), op.getWeight(),
        indices, offsets, op.getStrideAttr(), op.getPaddingAttr(),
        op.getDilationAttr(), op.getGroupsAttr(), gemm);
  }

  RewriterBase &rewriter;
  Conv2DBackwardOp op;
  Location loc;
  Type accType;
  int64_t numChannels, numKept;
  Value kept;
};
} // namespace

LogicalResult mlir::ssprop::lowerConv2DBackwardToGemm(RewriterBase &rewriter,
                                                      Conv2DBackwardOp op) {
  return Conv2DBackwardLowering(rewriter, op).lower();
}

//===----------------------------------------------------------------------===//
// Pass registration
//===----------------------------------------------------------------------===//

namespace {
struct SSPropLowerToGemmPass
    : public ssprop::impl::SSPropLowerToGemmPassBase<SSPropLowerToGemmPass> {
  void runOnOperation() override {
    SmallVector<Conv2DBackwardOp> ops;
    getOperation()->walk([&](Conv2DBackwardOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool failedAny = false;
    // Report every op that cannot be lowered, not only the first.
    for (Conv2DBackwardOp op : ops)
      failedAny |= failed(lowerConv2DBackwardToGemm(rewriter, op));
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
