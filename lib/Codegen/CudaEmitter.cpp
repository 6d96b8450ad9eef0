//===- CudaEmitter.cpp - lowered ssprop IR to CUDA kernels ----------------===//
//
// Walks a function of mid-level ssprop ops in order and turns each into a
// kernel launch, binding every SSA value to a device buffer. Two fusions:
// - channel_score and a gathered channel_sum of the same grad_output share one
//   pass over it (the sums of all channels are kept, the scatter picks);
// - wgrad's split-K partials are summed by the scatter kernel that places the
//   rows, so split-K costs no extra pass.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CudaEmitter.h"

#include "Kernels.h"
#include "PlanBuilder.h"

using namespace mlir;
using namespace mlir::ssprop;

namespace ssprop {
namespace {

using codegen::Binding;
using codegen::EmittedKernel;
using codegen::getConvShape;
using codegen::shapeOf;

class CudaPlanBuilder : public codegen::PlanBuilder<CudaPlanBuilder> {
public:
  CudaPlanBuilder(func::FuncOp func, const CodegenOptions &options)
      : PlanBuilder(func, "CUDA", Device::cuda), options(options) {}

  /// Every tensor must be static and small enough for 32-bit indexing.
  LogicalResult checkShapes() {
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || !type.hasStaticShape())
        return func.emitOpError()
               << "argument #" << arg.getArgNumber() << " has type "
               << arg.getType()
               << "; the CUDA emitter needs statically shaped tensors";
      if (checkedProduct(type.getShape()).value_or(INT64_MAX) > INT32_MAX)
        return func.emitOpError()
               << "argument #" << arg.getArgNumber() << " has "
               << formatShape(type.getShape())
               << " elements; the kernels index with 32 bits";
    }
    WalkResult result = func.walk([&](Operation *op) {
      for (Value value : op->getResults()) {
        auto type = dyn_cast<RankedTensorType>(value.getType());
        if (!type)
          continue;
        if (!type.hasStaticShape())
          return op->emitOpError() << "has a dynamic result shape; the CUDA "
                                      "emitter needs static shapes",
                 WalkResult::interrupt();
        if (checkedProduct(type.getShape()).value_or(INT64_MAX) > INT32_MAX)
          return op->emitOpError() << "has " << formatShape(type.getShape())
                                   << " result elements; the kernels index "
                                      "with 32 bits",
                 WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  void launchKernel(EmittedKernel kernel, std::vector<KernelParam> params) {
    launch(std::move(kernel.source), kernel.grid, kernel.block,
           std::move(params));
  }

  int keptBucket(Value indices, int64_t channels) {
    return getKeptBucket(static_cast<int>(shapeOf(indices)[0]),
                         static_cast<int>(channels), options.wgradTile.bm);
  }

  LogicalResult emitOp(ChannelScoreOp op) {
    ArrayRef<int64_t> dy = shapeOf(op.getGradOutput());
    int scoreBuffer = defineBuffer(op.getScore(), "score");
    int sumsBuffer = -1;
    if (ChannelSumOp sum = findFusableSum(op)) {
      fusedAway.insert(sum);
      Binding &binding = bindings[sum.getResult()];
      binding.buffer = sumsBuffer = addBuffer(BufferSpec::Role::Temporary, -1,
                                              ElementType::f32, dy[1], "sums");
      binding.byChannel = true;
      binding.rowsPerSplit = dy[1];
      binding.gatheredBy = sum.getIndices();
    }
    codegen::ReduceKernelSpec spec{
        *getElementType(op, op.getGradOutput().getType()),
        ElementType::f32, dy[0], dy[1], dy[2] * dy[3], /*withScore=*/true,
        /*withSum=*/sumsBuffer >= 0, /*gather=*/false, /*kBucket=*/0,
        options.arch};
    launchKernel(codegen::emitReduceKernel(spec),
                 {buf(bufferOf(op.getGradOutput())), buf(-1), i32(0),
                  buf(scoreBuffer), buf(sumsBuffer)});
    return success();
  }

  LogicalResult emitOp(ChannelSumOp op) {
    ArrayRef<int64_t> dy = shapeOf(op.getGradOutput());
    Value indices = op.getIndices();
    int bucket = indices ? keptBucket(indices, dy[1]) : 0;
    int sums = defineBuffer(op.getResult(), "sums", indices ? bucket : dy[1]);
    bindings[op.getResult()].rowsPerSplit = indices ? bucket : dy[1];
    codegen::ReduceKernelSpec spec{
        *getElementType(op, op.getGradOutput().getType()),
        *getElementType(op, op.getResult().getType()), dy[0], dy[1],
        dy[2] * dy[3], /*withScore=*/false, /*withSum=*/true,
        /*gather=*/bool(indices), bucket, options.arch};
    launchKernel(codegen::emitReduceKernel(spec),
                 {buf(bufferOf(op.getGradOutput())), buf(bufferOf(indices)),
                  i32(numKept(indices)), buf(-1), buf(sums)});
    return success();
  }

  LogicalResult checkSelectable(Operation *op, int64_t channels) {
    if (channels <= codegen::kMaxSelectChannels)
      return success();
    return op->emitOpError()
           << "selects among " << channels << " channels; the GPU selection "
           << "kernel handles at most " << codegen::kMaxSelectChannels;
  }

  LogicalResult emitOp(SelectTopKOp op) {
    int64_t channels = shapeOf(op.getScore())[0];
    if (failed(checkSelectable(op, channels)))
      return failure();
    int kept = defineBuffer(op.getIndices(), "kept");
    plan.selectLaunch = static_cast<int>(plan.launches.size());
    plan.scoreBuffer = bufferOf(op.getScore());
    launchKernel(
        codegen::emitSelectKernel({channels, /*random=*/false, options.arch}),
        {buf(bufferOf(op.getScore())),
         {KernelParam::Kind::Int64, 0},
         i32(op.getK()),
         buf(kept)});
    return success();
  }

  LogicalResult emitOp(SelectRandomOp op) {
    int64_t channels = op.getChannels();
    if (failed(checkSelectable(op, channels)))
      return failure();
    int kept = defineBuffer(op.getIndices(), "kept");
    launchKernel(
        codegen::emitSelectKernel({channels, /*random=*/true, options.arch}),
        {buf(-1),
         {KernelParam::Kind::Seed, bindings[op.getSeed()].seed},
         i32(op.getK()),
         buf(kept)});
    return success();
  }

  LogicalResult emitOp(GroupOffsetsOp op) {
    int offsets = defineBuffer(op.getOffsets(), "group_offsets");
    launchKernel(codegen::emitGroupOffsetsKernel(
                     {static_cast<int64_t>(op.getGroups()),
                      static_cast<int64_t>(op.getGroupSize()), options.arch}),
                 {buf(bufferOf(op.getIndices())), i32(numKept(op.getIndices())),
                  buf(offsets)});
    return success();
  }

  LogicalResult emitOp(WgradOp op) {
    ArrayRef<int64_t> weight = shapeOf(op.getGradWeight());
    codegen::ConvShape conv = getConvShape(
        shapeOf(op.getGradOutput()), shapeOf(op.getInput()), weight.drop_front(2),
        op.getStride(), op.getPadding(), op.getDilation(), op.getGroups());
    conv.plain = op.getGemm().getAddressing() == Addressing::plain;
    Value indices = op.getIndices();
    int bucket = indices ? keptBucket(indices, conv.outChannels) : 0;
    int64_t rows = indices ? bucket : conv.outChannels;
    int64_t inner = weight[1] * weight[2] * weight[3];
    ElementType type = *getElementType(op, op.getInput().getType());
    auto [splits, kPerSplit] =
        codegen::chooseWgradSplit(conv, rows, options.wgradTile, type, options);
    int partials = addBuffer(BufferSpec::Role::Temporary, -1, ElementType::f32,
                             splits * rows * inner, "wgrad_partials");
    codegen::WgradKernelSpec spec{type,          conv,        options.wgradTile,
                                  bool(indices), bucket,      splits,
                                  kPerSplit,     options.arch};
    launchKernel(codegen::emitWgradKernel(spec),
                 {buf(bufferOf(op.getInput())),
                  buf(bufferOf(op.getGradOutput())), buf(bufferOf(indices)),
                  i32(numKept(indices)), buf(partials)});
    if (indices) { // the scatter_channels that places the rows sums the splits
      bindings[op.getGradWeight()] = {partials, -1, splits, rows};
      return success();
    }
    int out = defineBuffer(op.getGradWeight(), "grad_weight");
    codegen::ScatterKernelSpec finalize{
        *getElementType(op, op.getGradWeight().getType()), conv.outChannels,
        inner, splits, rows, codegen::ScatterKernelSpec::Source::AllRows,
        options.arch};
    launchKernel(codegen::emitScatterKernel(finalize),
                 {buf(partials), buf(-1), i32(0), buf(out)});
    return success();
  }

  LogicalResult emitOp(ScatterChannelsOp op) {
    FailureOr<Binding> scattered = getScatteredRows(op);
    if (failed(scattered))
      return failure();
    const Binding &rows = *scattered;
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    int64_t inner = 1;
    for (int64_t dim : shape.drop_front())
      inner *= dim;
    int out = defineBuffer(op.getResult(), "scattered");
    using Source = codegen::ScatterKernelSpec::Source;
    codegen::ScatterKernelSpec spec{
        *getElementType(op, op.getResult().getType()), shape[0], inner,
        rows.splits, rows.rowsPerSplit,
        rows.byChannel ? Source::ChannelRows : Source::KeptRows, options.arch};
    launchKernel(codegen::emitScatterKernel(spec),
                 {buf(rows.buffer), buf(bufferOf(op.getIndices())),
                  i32(numKept(op.getIndices())), buf(out)});
    return success();
  }

  LogicalResult emitOp(DgradOp op) {
    ArrayRef<int64_t> weight = shapeOf(op.getWeight());
    codegen::ConvShape conv = getConvShape(
        shapeOf(op.getGradOutput()), shapeOf(op.getGradInput()),
        weight.drop_front(2), op.getStride(), op.getPadding(), op.getDilation(),
        op.getGroups());
    conv.plain = op.getGemm().getAddressing() == Addressing::plain;
    Value indices = op.getIndices();
    int bucket = indices ? keptBucket(indices, conv.outChannels) : 0;
    int dx = defineBuffer(op.getGradInput(), "grad_input");
    codegen::DgradKernelSpec spec{
        *getElementType(op, op.getGradOutput().getType()), conv,
        options.dgradTile, bool(indices), bucket, options.arch};
    launchKernel(codegen::emitDgradKernel(spec),
                 {buf(bufferOf(op.getGradOutput())),
                  buf(bufferOf(op.getWeight())), buf(bufferOf(indices)),
                  buf(bufferOf(op.getGroupOffsets())), i32(numKept(indices)),
                  buf(dx)});
    return success();
  }

private:
  const CodegenOptions &options;
};
} // namespace

FailureOr<KernelPlan> emitCudaPlan(func::FuncOp func,
                                   const CodegenOptions &options) {
  return CudaPlanBuilder(func, options).build();
}

} // namespace ssprop
