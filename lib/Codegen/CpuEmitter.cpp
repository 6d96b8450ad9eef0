//===- CpuEmitter.cpp - lowered ssprop IR to CPU kernels ------------------===//
//
// Walks a function of mid-level ssprop ops in order and turns each into CPU
// kernel calls (CpuKernels.h), binding every SSA value to a buffer, as the
// CUDA emitter does. The same fusion of channel_score with a gathered
// channel_sum of the same grad_output; wgrad's per-chunk partials are summed
// by the scatter that places the rows. The kept list's positions and group
// offsets are computed once per list.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"

#include "CpuKernelBuilder.h"
#include "CpuKernels.h"
#include "PlanBuilder.h"

using namespace mlir;
using namespace mlir::ssprop;

namespace ssprop {
namespace {

using codegen::Binding;
using codegen::getConvShape;
using codegen::shapeOf;
using cpu::CpuKernel;

/// Kernels are specialised on k rounded up to this many channels.
constexpr int kKeptGranularity = 32;

class CpuPlanBuilder : public codegen::PlanBuilder<CpuPlanBuilder> {
public:
  CpuPlanBuilder(func::FuncOp func, const CpuCodegenOptions &options)
      : PlanBuilder(func, "CPU", Device::cpu), options(options),
        context(func.getContext()), vl(getVectorLength(options.isa)) {
    cpu::loadCpuKernelDialects(*context);
  }

  /// Every tensor static, and of a type the kernels read.
  LogicalResult checkShapes() {
    WalkResult result = func.walk([&](Operation *op) {
      SmallVector<Value> values(op->getResults());
      if (auto f = dyn_cast<func::FuncOp>(op))
        values.assign(f.getArguments().begin(), f.getArguments().end());
      for (Value value : values) {
        if (!isa<TensorType>(value.getType()))
          continue; // a seed
        auto type = dyn_cast<RankedTensorType>(value.getType());
        if (!type || !type.hasStaticShape())
          return op->emitOpError() << "has a value of type " << value.getType()
                                   << "; the CPU emitter needs statically "
                                      "shaped tensors",
                 WalkResult::interrupt();
        if (type.getElementType().isF16())
          return op->emitOpError() << "has an f16 tensor; the CPU emitter "
                                      "generates f32 and bf16 kernels",
                 WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  LogicalResult emitOp(ChannelScoreOp op) {
    ArrayRef<int64_t> dy = shapeOf(op.getGradOutput());
    ChannelSumOp sum = findFusableSum(op);
    int score = defineBuffer(op.getScore(), "score");
    int sums = -1;
    if (sum) {
      fusedAway.insert(sum);
      sums = bindChannelSums(sum, dy[1]);
    }
    reduce(op, op.getGradOutput(), /*withAbs=*/true, score, sums,
           ElementType::f32);
    return success();
  }

  LogicalResult emitOp(ChannelSumOp op) {
    ArrayRef<int64_t> dy = shapeOf(op.getGradOutput());
    // Gathered sums are kept for every channel; the scatter picks.
    ElementType type = *getElementType(op, op.getResult().getType());
    int sums = op.getIndices() ? bindChannelSums(op, dy[1])
                               : defineBuffer(op.getResult(), "sums");
    reduce(op, op.getGradOutput(), /*withAbs=*/false, -1, sums,
           op.getIndices() ? ElementType::f32 : type);
    return success();
  }

  LogicalResult emitOp(SelectTopKOp op) {
    int64_t channels = shapeOf(op.getScore())[0];
    int kept = defineKept(op.getIndices(), channels);
    plan.selectLaunch = static_cast<int>(plan.launches.size());
    plan.scoreBuffer = bufferOf(op.getScore());
    call(
        cpu::emitSelect(context, {channels, bucketOf(op.getIndices(), channels),
                                  /*random=*/false, vl}),
        {buf(bufferOf(op.getScore())), buf(keysFor(channels)), buf(kept),
         i64(op.getK())});
    return success();
  }

  LogicalResult emitOp(SelectRandomOp op) {
    int64_t channels = op.getChannels();
    int kept = defineKept(op.getIndices(), channels);
    call(
        cpu::emitSelect(context, {channels, bucketOf(op.getIndices(), channels),
                                  /*random=*/true, vl}),
        {{KernelParam::Kind::Seed, bindings[op.getSeed()].seed},
         buf(keysFor(channels)),
         buf(kept),
         i64(op.getK())});
    return success();
  }

  LogicalResult emitOp(GroupOffsetsOp op) {
    int offsets = defineBuffer(op.getOffsets(), "group_offsets");
    groupOffsets[{op.getIndices(), op.getGroups()}] = offsets;
    callGroupOffsets(op.getIndices(), op.getGroups(), op.getGroupSize(),
                     offsets);
    return success();
  }

  LogicalResult emitOp(WgradOp op) {
    ArrayRef<int64_t> weight = shapeOf(op.getGradWeight());
    codegen::ConvShape conv =
        getConvShape(shapeOf(op.getGradOutput()), shapeOf(op.getInput()),
                     weight.drop_front(2), op.getStride(), op.getPadding(),
                     op.getDilation(), op.getGroups());
    if (failed(checkConv(op, conv)))
      return failure();
    Value indices = op.getIndices();
    cpu::WgradSpec spec{*getElementType(op, op.getInput().getType()),
                        conv,
                        bool(indices),
                        indices ? bucketOf(indices, conv.outChannels) : 0,
                        options.tile.wgradRows,
                        options.tile.wgradCols,
                        std::clamp<int64_t>(options.threads, 1, conv.n),
                        vl};
    CpuKernel kernel = cpu::emitWgrad(context, spec);
    int64_t rows = cpu::getWgradRows(spec);
    int64_t inner = weight[1] * weight[2] * weight[3];
    int partials = addTemporary(ElementType::f32, spec.chunks * rows * inner,
                                "wgrad_partials");
    std::vector<KernelParam> params = {buf(bufferOf(op.getInput())),
                                       buf(bufferOf(op.getGradOutput()))};
    appendKept(params, indices, conv);
    params.push_back(buf(partials));
    params.push_back(buf(scratchFor(kernel)));
    params.push_back(i64(keptOrAll(indices, conv.outChannels)));
    call(std::move(kernel), std::move(params));
    if (indices) { // the scatter_channels that places the rows sums the chunks
      bindings[op.getGradWeight()] = {partials, -1, spec.chunks, rows};
      return success();
    }
    int out = defineBuffer(op.getGradWeight(), "grad_weight");
    callScatter(*getElementType(op, op.getGradWeight().getType()),
                conv.outChannels, inner, {partials, -1, spec.chunks, rows},
                codegen::ScatterKernelSpec::Source::AllRows, -1, out);
    return success();
  }

  LogicalResult emitOp(ScatterChannelsOp op) {
    FailureOr<Binding> rows = getScatteredRows(op);
    if (failed(rows))
      return failure();
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    int64_t inner = 1;
    for (int64_t dim : shape.drop_front())
      inner *= dim;
    int positions = positionsFor(op.getIndices(), shape[0]);
    int out = defineBuffer(op.getResult(), "scattered");
    using Source = codegen::ScatterKernelSpec::Source;
    callScatter(*getElementType(op, op.getResult().getType()), shape[0], inner,
                *rows, rows->byChannel ? Source::ChannelRows : Source::KeptRows,
                positions, out);
    return success();
  }

  LogicalResult emitOp(DgradOp op) {
    ArrayRef<int64_t> weight = shapeOf(op.getWeight());
    codegen::ConvShape conv =
        getConvShape(shapeOf(op.getGradOutput()), shapeOf(op.getGradInput()),
                     weight.drop_front(2), op.getStride(), op.getPadding(),
                     op.getDilation(), op.getGroups());
    if (failed(checkConv(op, conv)))
      return failure();
    Value indices = op.getIndices();
    ElementType type = *getElementType(op, op.getGradOutput().getType());
    int64_t bucket = indices ? bucketOf(indices, conv.outChannels) : 0;
    const CpuTileConfig &tile = options.tile;
    cpu::PackWeightSpec packSpec{type, conv, bool(indices), bucket,
                                 tile.dgradChannels};
    int packed =
        addTemporary(ElementType::f32, cpu::getPackedWeightFloats(packSpec),
                     "packed_weight");
    const int64_t numKept = keptOrAll(indices, conv.outChannels);
    std::vector<KernelParam> packParams = {buf(bufferOf(op.getWeight()))};
    appendKept(packParams, indices, conv, op.getGroupOffsets());
    packParams.push_back(buf(packed));
    packParams.push_back(i64(numKept));
    call(cpu::emitPackWeight(context, packSpec), std::move(packParams));

    cpu::DgradSpec spec{type,
                        conv,
                        bool(indices),
                        bucket,
                        tile.dgradChannels,
                        tile.dgradVectors,
                        tile.dgradTapsOuter,
                        vl};
    CpuKernel kernel = cpu::emitDgrad(context, spec);
    int dx = defineBuffer(op.getGradInput(), "grad_input");
    std::vector<KernelParam> params = {buf(bufferOf(op.getGradOutput())),
                                       buf(packed)};
    appendKept(params, indices, conv, op.getGroupOffsets());
    params.push_back(buf(dx));
    params.push_back(buf(scratchFor(kernel)));
    params.push_back(i64(numKept));
    call(std::move(kernel), std::move(params));
    return success();
  }

private:
  void call(CpuKernel kernel, std::vector<KernelParam> params) {
    launch(std::move(kernel.source),
           {static_cast<unsigned>(kernel.tiles), 1, 1}, {1, 1, 1},
           std::move(params));
  }

  int64_t bucketOf(Value indices, int64_t channels) {
    return getKeptBucket(static_cast<int>(shapeOf(indices)[0]),
                         static_cast<int>(channels), kKeptGranularity);
  }

  int64_t keptOrAll(Value indices, int64_t channels) {
    return indices ? numKept(indices) : channels;
  }

  LogicalResult checkConv(Operation *op, const codegen::ConvShape &conv) {
    std::string why = cpu::checkConvSupported(conv, vl);
    if (why.empty())
      return success();
    return op->emitOpError() << "cannot be generated for the CPU: " << why;
  }

  /// The kept list buffer, sized to its bucket.
  int defineKept(Value indices, int64_t channels) {
    return defineBuffer(indices, "kept", bucketOf(indices, channels));
  }

  /// A temporary for the select kernel's keys, whole vectors.
  int keysFor(int64_t channels) {
    return addTemporary(ElementType::i32, (channels + vl - 1) / vl * vl,
                        "keys");
  }

  /// A per-worker scratch buffer for `kernel`.
  int scratchFor(const CpuKernel &kernel) {
    return addBuffer(BufferSpec::Role::Scratch, -1, ElementType::f32,
                     kernel.scratchFloats, "scratch");
  }

  /// Binds `sum`'s result to the sums of every channel (the scatter picks
  /// the kept ones).
  int bindChannelSums(ChannelSumOp sum, int64_t channels) {
    int buffer = addTemporary(ElementType::f32, channels, "sums");
    Binding &binding = bindings[sum.getResult()];
    binding.buffer = buffer;
    binding.byChannel = true;
    binding.rowsPerSplit = channels;
    binding.gatheredBy = sum.getIndices();
    return buffer;
  }

  /// One pass over dy for mean |dy| (score >= 0) and sums (sums >= 0).
  void reduce(Operation *op, Value gradOutput, bool withAbs, int score,
              int sums, ElementType sumType) {
    ArrayRef<int64_t> dy = shapeOf(gradOutput);
    const int64_t spatial = dy[2] * dy[3];
    ElementType type = *getElementType(op, gradOutput.getType());
    int partials =
        addTemporary(ElementType::f32,
                     cpu::getReduceChunks(dy[0]) * dy[1] * 2 * vl, "partials");
    call(cpu::emitReducePartials(
             context, {type, dy[0], dy[1], spatial, withAbs, sums >= 0, vl}),
         {buf(bufferOf(gradOutput)), buf(partials)});
    std::vector<KernelParam> params = {buf(partials)};
    if (score >= 0)
      params.push_back(buf(score));
    if (sums >= 0)
      params.push_back(buf(sums));
    call(cpu::emitReduceFinish(context, {dy[0], dy[1], spatial, score >= 0,
                                         sums >= 0, sumType, vl}),
         std::move(params));
  }

  /// kept[] and, for a grouped gather, the group offsets (`offsets` if the
  /// IR has them, else computed here once per kept list).
  void appendKept(std::vector<KernelParam> &params, Value indices,
                  const codegen::ConvShape &conv, Value offsets = nullptr) {
    if (!indices)
      return;
    params.push_back(buf(bufferOf(indices)));
    if (conv.groups == 1)
      return;
    params.push_back(buf(offsets ? bufferOf(offsets)
                                 : offsetsFor(indices, conv.groups,
                                              conv.outChannels / conv.groups)));
  }

  int offsetsFor(Value indices, int64_t groups, int64_t groupSize) {
    auto [it, inserted] = groupOffsets.try_emplace({indices, groups}, -1);
    if (inserted) {
      it->second = addTemporary(ElementType::i32, groups + 1, "group_offsets");
      callGroupOffsets(indices, groups, groupSize, it->second);
    }
    return it->second;
  }

  void callGroupOffsets(Value indices, int64_t groups, int64_t groupSize,
                        int offsets) {
    int64_t channels = groups * groupSize;
    call(cpu::emitGroupOffsets(context, groups, groupSize,
                               bucketOf(indices, channels)),
         {buf(bufferOf(indices)), buf(offsets), i64(numKept(indices))});
  }

  int positionsFor(Value indices, int64_t channels) {
    auto [it, inserted] = positions.try_emplace(indices, -1);
    if (inserted) {
      it->second = addTemporary(ElementType::i32, channels, "positions");
      call(cpu::emitPositions(context, channels, bucketOf(indices, channels)),
           {buf(bufferOf(indices)), buf(it->second), i64(numKept(indices))});
    }
    return it->second;
  }

  void callScatter(ElementType outType, int64_t channels, int64_t inner,
                   const Binding &rows,
                   codegen::ScatterKernelSpec::Source source, int positions,
                   int out) {
    std::vector<KernelParam> params = {buf(rows.buffer)};
    if (positions >= 0)
      params.push_back(buf(positions));
    params.push_back(buf(out));
    call(cpu::emitScatter(context, {outType, channels, inner, rows.splits,
                                    rows.rowsPerSplit, source, vl}),
         std::move(params));
  }

  const CpuCodegenOptions &options;
  MLIRContext *context;
  int vl;
  llvm::DenseMap<std::pair<Value, int64_t>, int> groupOffsets;
  llvm::DenseMap<Value, int> positions;
};

} // namespace

FailureOr<KernelPlan> emitCpuPlan(func::FuncOp func,
                                  const CpuCodegenOptions &options) {
  return CpuPlanBuilder(func, options).build();
}

} // namespace ssprop
