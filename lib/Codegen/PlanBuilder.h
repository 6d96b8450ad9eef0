//===- PlanBuilder.h - what the CUDA and CPU emitters share -----*- C++ -*-===//
//
// Both emitters walk a function of mid-level ssprop ops in order and turn
// each op into kernel calls, binding every SSA value to a plan buffer. This
// base holds the walk, the bindings, the buffers and the kernel list; each
// emitter supplies `emitOp` for every mid-level op (CRTP).
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_LIB_CODEGEN_PLANBUILDER_H
#define SSPROP_LIB_CODEGEN_PLANBUILDER_H

#include "Kernels.h"

#include "ssprop/Core/KernelPlan.h"
#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>
#include <string>

namespace ssprop::codegen {

/// Where a value lives: a buffer, or (for random_seed) a seed number. Rows of
/// a gathered wgrad or channel_sum are `splits` partial copies of
/// `rowsPerSplit` rows each; `byChannel` rows are indexed by channel instead
/// of by position in the kept list.
struct Binding {
  int buffer = -1;
  int seed = -1;
  int64_t splits = 1;
  int64_t rowsPerSplit = 0;
  bool byChannel = false;
  /// For byChannel rows: the kept list the producer gathered with.
  mlir::Value gatheredBy = nullptr;
};

inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
  return mlir::cast<mlir::ShapedType>(value.getType()).getShape();
}

/// The shapes and geometry of a convolution gradient op.
ConvShape getConvShape(llvm::ArrayRef<int64_t> dy, llvm::ArrayRef<int64_t> x,
                       llvm::ArrayRef<int64_t> kernelHW,
                       llvm::ArrayRef<int64_t> stride,
                       llvm::ArrayRef<int64_t> padding,
                       llvm::ArrayRef<int64_t> dilation, int64_t groups);

template <typename Derived> class PlanBuilder {
public:
  /// `emitter` names the emitter in diagnostics ("CUDA", "CPU").
  PlanBuilder(mlir::func::FuncOp func, const char *emitter, Device device)
      : func(func), emitter(emitter) {
    plan.device = device;
  }

  mlir::FailureOr<KernelPlan> build() {
    auto *derived = static_cast<Derived *>(this);
    if (mlir::failed(derived->checkShapes()))
      return mlir::failure();
    auto returnOp = mlir::cast<mlir::func::ReturnOp>(
        func.getBody().front().getTerminator());
    for (auto [index, value] : llvm::enumerate(returnOp.getOperands())) {
      if (mlir::isa<mlir::BlockArgument>(value) ||
          !resultIndex.try_emplace(value, index).second)
        return returnOp.emitOpError()
               << "returns value #" << index
               << ", which is an argument or already returned; the " << emitter
               << " emitter needs each result computed once";
    }
    for (mlir::Operation &op : func.getBody().front().without_terminator())
      if (!fusedAway.contains(&op) && mlir::failed(emit(&op)))
        return mlir::failure();
    return std::move(plan);
  }

protected:
  mlir::FailureOr<ElementType> getElementType(mlir::Operation *op,
                                              mlir::Type type) {
    mlir::Type element = mlir::getElementTypeOrSelf(type);
    if (element.isF32())
      return ElementType::f32;
    if (element.isF16())
      return ElementType::f16;
    if (element.isBF16())
      return ElementType::bf16;
    if (element.isInteger(32))
      return ElementType::i32;
    return op->emitOpError() << "has element type " << element << ", which the "
                             << emitter << " emitter does not support";
  }

  int64_t numKept(mlir::Value indices) {
    return indices ? shapeOf(indices)[0] : 0;
  }

  /// The buffer of an operand; function arguments get theirs on first use.
  int bufferOf(mlir::Value value) {
    if (!value)
      return -1;
    auto arg = mlir::dyn_cast<mlir::BlockArgument>(value);
    if (arg && !bindings.count(value)) {
      auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
      bindings[value].buffer =
          addBuffer(BufferSpec::Role::Argument, arg.getArgNumber(),
                    *getElementType(func, type), type.getNumElements(),
                    "arg" + std::to_string(arg.getArgNumber()));
    }
    return bindings.lookup(value).buffer;
  }

  /// A new buffer holding `value`: the function's result buffer when it is
  /// returned, otherwise a temporary of `numElements` (default: its size).
  int defineBuffer(mlir::Value value, const std::string &name,
                   int64_t numElements = -1) {
    auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
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

  int addTemporary(ElementType type, int64_t numElements,
                   const std::string &name) {
    return addBuffer(BufferSpec::Role::Temporary, -1, type, numElements, name);
  }

  /// Appends a call of `source` (added to the plan's kernels once per name).
  void launch(KernelSource source, std::array<unsigned, 3> grid,
              std::array<unsigned, 3> block, std::vector<KernelParam> params) {
    auto [it, inserted] = kernelIndex.try_emplace(
        source.name, static_cast<int>(plan.kernels.size()));
    if (inserted)
      plan.kernels.push_back(std::move(source));
    plan.launches.push_back({it->second, grid, block, std::move(params)});
  }

  static KernelParam buf(int buffer) {
    return {KernelParam::Kind::Buffer, buffer};
  }
  static KernelParam i32(int64_t value) {
    return {KernelParam::Kind::Int32, value};
  }
  static KernelParam i64(int64_t value) {
    return {KernelParam::Kind::Int64, value};
  }

  /// A later gathered channel_sum of the same grad_output, computed by the
  /// scoring pass when there is one.
  mlir::ssprop::ChannelSumOp
  findFusableSum(mlir::ssprop::ChannelScoreOp score) {
    for (mlir::Operation *user : score.getGradOutput().getUsers())
      if (auto sum = mlir::dyn_cast<mlir::ssprop::ChannelSumOp>(user);
          sum && sum.getIndices() && score->isBeforeInBlock(sum))
        return sum;
    return {};
  }

  /// The rows a scatter_channels places, or an error on `op`.
  mlir::FailureOr<Binding>
  getScatteredRows(mlir::ssprop::ScatterChannelsOp op) {
    auto it = bindings.find(op.getRows());
    if (it == bindings.end() || it->second.rowsPerSplit == 0)
      return op.emitOpError() << "scatters rows that are not a gathered "
                                 "wgrad or channel_sum; the "
                              << emitter << " emitter cannot place them";
    // A copy: defining buffers may grow `bindings` and move its entries.
    const Binding rows = it->second;
    // Sums kept by channel match the IR only when placed by the same list.
    if (rows.byChannel && rows.gatheredBy != op.getIndices())
      return op.emitOpError() << "places channel sums with a different kept "
                                 "list than they were gathered with";
    return rows;
  }

  mlir::func::FuncOp func;
  const char *emitter;
  KernelPlan plan;
  llvm::DenseMap<mlir::Value, Binding> bindings;
  llvm::DenseMap<mlir::Value, unsigned> resultIndex;
  llvm::DenseSet<mlir::Operation *> fusedAway;
  std::map<std::string, int> kernelIndex;

private:
  mlir::LogicalResult emit(mlir::Operation *op) {
    using namespace mlir::ssprop;
    return llvm::TypeSwitch<mlir::Operation *, mlir::LogicalResult>(op)
        .Case<ChannelScoreOp, ChannelSumOp, SelectTopKOp, SelectRandomOp,
              GroupOffsetsOp, WgradOp, DgradOp, ScatterChannelsOp>(
            [&](auto concrete) {
              return static_cast<Derived *>(this)->emitOp(concrete);
            })
        .template Case<RandomSeedOp>([&](RandomSeedOp seed) {
          // A seed is a number the caller draws, not a kernel.
          bindings[seed.getSeed()].seed = plan.numSeeds++;
          return mlir::success();
        })
        .Default([&](mlir::Operation *op) {
          return op->emitOpError() << "is not supported by the " << emitter
                                   << " emitter, which takes the output of "
                                      "--ssprop-lower-to-gemm";
        });
  }
};

} // namespace ssprop::codegen

#endif // SSPROP_LIB_CODEGEN_PLANBUILDER_H
