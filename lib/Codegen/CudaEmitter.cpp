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
#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>

using namespace mlir;
using namespace mlir::ssprop;

namespace ssprop {
namespace {

using codegen::EmittedKernel;

/// Where a value lives: a buffer, or (for random_seed) a seed number. Rows of
/// a gathered wgrad or channel_sum are `splits` partial copies of
/// `rowsPerSplit` rows each; `byChannel` rows are indexed by channel instead of
/// by position in the kept list.
struct Binding {
  int buffer = -1;
  int seed = -1;
  int64_t splits = 1;
  int64_t rowsPerSplit = 0;
  bool byChannel = false;
  /// For byChannel rows: the kept list the producer gathered with.
  Value gatheredBy = nullptr;
};

FailureOr<ElementType> getElementType(Operation *op, Type type) {
  Type element = getElementTypeOrSelf(type);
  if (element.isF32())
    return ElementType::f32;
  if (element.isF16())
    return ElementType::f16;
  if (element.isBF16())
    return ElementType::bf16;
  if (element.isInteger(32))
    return ElementType::i32;
  return op->emitOpError() << "has element type " << element
                           << ", which the CUDA emitter does not support";
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

codegen::ConvShape getConvShape(ArrayRef<int64_t> dy, ArrayRef<int64_t> x,
                                ArrayRef<int64_t> kernelHW,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> padding,
                                ArrayRef<int64_t> dilation, int64_t groups) {
  codegen::ConvShape c{};
  c.n = x[0];
  c.inChannels = x[1];
  c.height = x[2];
  c.width = x[3];
  c.outChannels = dy[1];
  c.outHeight = dy[2];
  c.outWidth = dy[3];
  c.kernelHeight = kernelHW[0];
  c.kernelWidth = kernelHW[1];
  c.strideH = stride[0];
  c.strideW = stride[1];
  c.padH = padding[0];
  c.padW = padding[1];
  c.dilationH = dilation[0];
  c.dilationW = dilation[1];
  c.groups = groups;
  return c;
}

class PlanBuilder {
public:
  PlanBuilder(func::FuncOp func, const CodegenOptions &options)
      : func(func), options(options) {}

  FailureOr<KernelPlan> build() {
    if (failed(checkShapes()))
      return failure();
    auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    for (auto [index, value] : llvm::enumerate(returnOp.getOperands())) {
      if (isa<BlockArgument>(value) || !resultIndex.try_emplace(value, index).second)
        return returnOp.emitOpError()
               << "returns value #" << index
               << ", which is an argument or already returned; the CUDA "
                  "emitter needs each result computed once";
    }
    for (Operation &op : func.getBody().front().without_terminator())
      if (!fusedAway.contains(&op) && failed(emit(&op)))
        return failure();
    return std::move(plan);
  }

private:
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

  int keptBucket(Value indices, int64_t channels) {
    return getKeptBucket(static_cast<int>(shapeOf(indices)[0]),
                         static_cast<int>(channels), options.wgradTile.bm);
  }

  int64_t numKept(Value indices) { return indices ? shapeOf(indices)[0] : 0; }

  /// The buffer of an operand; function arguments get theirs on first use.
  int bufferOf(Value value) {
    if (!value)
      return -1;
    auto arg = dyn_cast<BlockArgument>(value);
    if (arg && !bindings.count(value)) {
      auto type = cast<RankedTensorType>(value.getType());
      bindings[value].buffer =
          addBuffer(BufferSpec::Role::Argument, arg.getArgNumber(),
                    *getElementType(func, type), type.getNumElements(),
                    "arg" + std::to_string(arg.getArgNumber()));
    }
    return bindings.lookup(value).buffer;
  }

  /// A new buffer holding `value`: the function's result buffer when it is
  /// returned, otherwise a temporary of `numElements` (default: its size).
  int defineBuffer(Value value, const std::string &name,
                   int64_t numElements = -1) {
    auto type = cast<RankedTensorType>(value.getType());
    auto it = resultIndex.find(value);
    bool isResult = it != resultIndex.end();
    int buffer = addBuffer(
        isResult ? BufferSpec::Role::Result : BufferSpec::Role::Temporary,
        isResult ? static_cast<int>(it->second) : -1,
        *getElementType(func, type),
        numElements < 0 ? type.getNumElements() : numElements, name);
    bindings[value].buffer = buffer;
    return buffer;
  }

  int addBuffer(BufferSpec::Role role, int index, ElementType type,
                int64_t numElements, const std::string &name) {
    plan.buffers.push_back({role, index, type, numElements, name});
    return static_cast<int>(plan.buffers.size()) - 1;
  }

  void launch(EmittedKernel kernel, std::vector<KernelParam> params) {
    auto [it, inserted] = kernelIndex.try_emplace(
        kernel.source.name, static_cast<int>(plan.kernels.size()));
    if (inserted)
      plan.kernels.push_back(std::move(kernel.source));
    plan.launches.push_back(
        {it->second, kernel.grid, kernel.block, std::move(params)});
  }

  static KernelParam buf(int buffer) {
    return {KernelParam::Kind::Buffer, buffer};
  }
  static KernelParam i32(int64_t value) {
    return {KernelParam::Kind::Int32, value};
  }

  LogicalResult emit(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case<ChannelScoreOp, ChannelSumOp, SelectTopKOp, RandomSeedOp,
              SelectRandomOp, GroupOffsetsOp, WgradOp, DgradOp,
              ScatterChannelsOp>([&](auto concrete) { return emitOp(concrete); })
        .Default([](Operation *op) {
          return op->emitOpError()
                 << "is not supported by the CUDA emitter, which takes the "
                    "output of --ssprop-lower-to-gemm";
        });
  }

  /// A later gathered channel_sum of the same grad_output, computed by the
  /// scoring pass when there is one.
  ChannelSumOp findFusableSum(ChannelScoreOp score) {
    for (Operation *user : score.getGradOutput().getUsers())
      if (auto sum = dyn_cast<ChannelSumOp>(user);
          sum && sum.getIndices() && score->isBeforeInBlock(sum))
        return sum;
    return {};
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
    launch(codegen::emitReduceKernel(spec),
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
    launch(codegen::emitReduceKernel(spec),
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
    launch(codegen::emitSelectKernel({channels, /*random=*/false, options.arch}),
           {buf(bufferOf(op.getScore())), {KernelParam::Kind::Int64, 0},
            i32(op.getK()), buf(kept)});
    return success();
  }

  LogicalResult emitOp(RandomSeedOp op) {
    bindings[op.getSeed()].seed = plan.numSeeds++;
    return success();
  }

  LogicalResult emitOp(SelectRandomOp op) {
    int64_t channels = op.getChannels();
    if (failed(checkSelectable(op, channels)))
      return failure();
    int kept = defineBuffer(op.getIndices(), "kept");
    launch(codegen::emitSelectKernel({channels, /*random=*/true, options.arch}),
           {buf(-1), {KernelParam::Kind::Seed, bindings[op.getSeed()].seed},
            i32(op.getK()), buf(kept)});
    return success();
  }

  LogicalResult emitOp(GroupOffsetsOp op) {
    int offsets = defineBuffer(op.getOffsets(), "group_offsets");
    launch(codegen::emitGroupOffsetsKernel(
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
    launch(codegen::emitWgradKernel(spec),
           {buf(bufferOf(op.getInput())), buf(bufferOf(op.getGradOutput())),
            buf(bufferOf(indices)), i32(numKept(indices)), buf(partials)});
    if (indices) { // the scatter_channels that places the rows sums the splits
      bindings[op.getGradWeight()] = {partials, -1, splits, rows};
      return success();
    }
    int out = defineBuffer(op.getGradWeight(), "grad_weight");
    codegen::ScatterKernelSpec finalize{
        *getElementType(op, op.getGradWeight().getType()), conv.outChannels,
        inner, splits, rows, codegen::ScatterKernelSpec::Source::AllRows,
        options.arch};
    launch(codegen::emitScatterKernel(finalize),
           {buf(partials), buf(-1), i32(0), buf(out)});
    return success();
  }

  LogicalResult emitOp(ScatterChannelsOp op) {
    auto it = bindings.find(op.getRows());
    if (it == bindings.end() || it->second.rowsPerSplit == 0)
      return op.emitOpError() << "scatters rows that are not a gathered "
                                 "wgrad or channel_sum; the CUDA emitter "
                                 "cannot place them";
    // A copy: defineBuffer below may grow `bindings` and move its entries.
    const Binding rows = it->second;
    // Sums kept by channel match the IR only when placed by the same list.
    if (rows.byChannel && rows.gatheredBy != op.getIndices())
      return op.emitOpError() << "places channel sums with a different kept "
                                 "list than they were gathered with";
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
    launch(codegen::emitScatterKernel(spec),
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
    launch(codegen::emitDgradKernel(spec),
           {buf(bufferOf(op.getGradOutput())), buf(bufferOf(op.getWeight())),
            buf(bufferOf(indices)), buf(bufferOf(op.getGroupOffsets())),
            i32(numKept(indices)), buf(dx)});
    return success();
  }

  func::FuncOp func;
  const CodegenOptions &options;
  KernelPlan plan;
  llvm::DenseMap<Value, Binding> bindings;
  llvm::DenseMap<Value, unsigned> resultIndex;
  llvm::DenseSet<Operation *> fusedAway;
  std::map<std::string, int> kernelIndex;
};
} // namespace

FailureOr<KernelPlan> emitCudaPlan(func::FuncOp func,
                                   const CodegenOptions &options) {
  return PlanBuilder(func, options).build();
}

} // namespace ssprop
