//===- CpuKernelBuilder.h - building CPU kernels with MLIR builders -*- C++
//-*-===//
//
// A thin layer over OpBuilder for the CPU kernels: each kernel is one
// func.func of flat, statically shaped memrefs and index scalars in a module
// of its own, written with scf loops, vector loads, masked loads and FMAs,
// and arith. It folds constant index arithmetic while building (the kernels
// compute many addresses from shape constants), hoists constants to the entry
// block, and converts bf16 (held in memory as its 16-bit pattern, i16) to and
// from f32 at every load and store, so the arithmetic is always f32.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_LIB_CODEGEN_CPUKERNELBUILDER_H
#define SSPROP_LIB_CODEGEN_CPUKERNELBUILDER_H

#include "ssprop/Core/KernelPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>

namespace ssprop::cpu {

/// The memref element type that holds `type` in a CPU kernel: f32, i16 (the
/// bits of a bf16), i32.
mlir::Type getStorageType(mlir::MLIRContext *context, ElementType type);
/// `memref<numElements x storage type>`.
mlir::MemRefType getBufferType(mlir::MLIRContext *context, ElementType type,
                               int64_t numElements);

/// Loads the dialects the CPU kernels are written in.
void loadCpuKernelDialects(mlir::MLIRContext &context);

class KernelBuilder {
public:
  /// Starts `func.func @name(args..., %t0: index, %t1: index)` in a new module:
  /// every kernel takes the tile range [t0, t1) last. Vectors have
  /// `vectorLength` f32 lanes.
  KernelBuilder(mlir::MLIRContext *context, const std::string &name,
                llvm::ArrayRef<mlir::Type> argTypes, int vectorLength);

  /// The module, its function finished with a return.
  mlir::OwningOpRef<mlir::ModuleOp> finish();

  mlir::Value arg(unsigned i) { return func.getArgument(i); }
  mlir::Value tileBegin() {
    return func.getArgument(func.getNumArguments() - 2);
  }
  mlir::Value tileEnd() { return func.getArgument(func.getNumArguments() - 1); }
  int getVectorLength() const { return vl; }
  mlir::VectorType getF32Vector() const { return f32Vector; }
  mlir::OpBuilder &getBuilder() { return b; }

  // Constants (hoisted to the entry block, one per value).
  mlir::Value index(int64_t value);
  mlir::Value f32(double value);
  mlir::Value i32(int32_t value);
  mlir::Value i64(int64_t value);
  /// vector<width x f32> of zeros (width: the vector length by default).
  mlir::Value zeroVector(int64_t width = 0);
  /// A vector<vl x i1> constant.
  mlir::Value maskConstant(llvm::ArrayRef<bool> lanes);

  // Index arithmetic; constants fold.
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value add(mlir::Value a, int64_t b) { return add(a, index(b)); }
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, int64_t b) { return mul(a, index(b)); }
  mlir::Value div(mlir::Value a, int64_t b);
  mlir::Value rem(mlir::Value a, int64_t b);
  mlir::Value min(mlir::Value a, mlir::Value b);
  mlir::Value max(mlir::Value a, mlir::Value b);
  mlir::Value cmp(mlir::arith::CmpIPredicate predicate, mlir::Value a,
                  mlir::Value b);
  mlir::Value select(mlir::Value cond, mlir::Value a, mlir::Value b);
  mlir::Value toIndex(mlir::Value i32Value);
  mlir::Value toI32(mlir::Value indexValue);

  // Structured control flow.
  using Body = std::function<void(mlir::Value)>;
  using IterBody = std::function<llvm::SmallVector<mlir::Value>(
      mlir::Value, mlir::ValueRange)>;
  void loop(mlir::Value lower, mlir::Value upper, int64_t step,
            const Body &body);
  void loop(int64_t lower, int64_t upper, const Body &body) {
    loop(index(lower), index(upper), 1, body);
  }
  llvm::SmallVector<mlir::Value> loop(mlir::Value lower, mlir::Value upper,
                                      int64_t step, mlir::ValueRange inits,
                                      const IterBody &body);
  void ifThen(mlir::Value cond, const std::function<void()> &then);
  void ifThenElse(mlir::Value cond, const std::function<void()> &then,
                  const std::function<void()> &otherwise);

  // Memory. Buffers are 1-D memrefs of f32, i16 (bf16 bits) or i32; f32
  // loads and stores convert bf16 on the way.
  mlir::Value loadF32(mlir::Value buffer, mlir::Value at);
  void storeF32(mlir::Value value, mlir::Value buffer, mlir::Value at);
  mlir::Value loadI32(mlir::Value buffer, mlir::Value at);
  void storeI32(mlir::Value value, mlir::Value buffer, mlir::Value at);
  /// `vl` consecutive elements as vector<vl x f32>.
  mlir::Value loadVector(mlir::Value buffer, mlir::Value at);
  void storeVector(mlir::Value vector, mlir::Value buffer, mlir::Value at);
  /// Lanes off in `mask` are neither read (they are 0) nor written.
  mlir::Value maskedLoadVector(mlir::Value buffer, mlir::Value at,
                               mlir::Value mask);
  void maskedStoreVector(mlir::Value vector, mlir::Value buffer, mlir::Value at,
                         mlir::Value mask);
  /// A vector<vl x f32> with its first `width` lanes loaded (a narrower
  /// vector when width < vl: the stride-2 shuffles use half vectors).
  mlir::Value loadNarrowVector(mlir::Value buffer, mlir::Value at,
                               int64_t width);
  void storeNarrowVector(mlir::Value vector, mlir::Value buffer,
                         mlir::Value at);

  /// A constant i32 table (memref.global) in the module.
  mlir::Value table(const std::string &name, llvm::ArrayRef<int32_t> values);
  /// The mask of `vl` table entries from `at`: lane on where the entry is < 0.
  mlir::Value maskFromTable(mlir::Value table, mlir::Value at);

  // Vector arithmetic.
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value acc);
  mlir::Value broadcast(mlir::Value scalar);
  /// The sum of the lanes as a fixed tree (deterministic).
  mlir::Value sumLanes(mlir::Value vector);
  /// The sum of the lanes in lane order.
  mlir::Value sumLanesInOrder(mlir::Value vector);
  mlir::Value shuffle(mlir::Value a, mlir::Value b,
                      llvm::ArrayRef<int64_t> lanes);
  mlir::Value addf(mlir::Value a, mlir::Value b);

  template <typename Op, typename... Args> Op create(Args &&...args) {
    return b.create<Op>(loc, std::forward<Args>(args)...);
  }

private:
  mlir::Value constant(mlir::Attribute attr);
  /// The integer `value` of type `element`, a vector splat if `like` is one.
  mlir::Value intLike(int64_t value, mlir::Type element, mlir::Value like);
  mlir::Type shapedLike(mlir::Type element, mlir::Value like);
  mlir::Value toF32(mlir::Value bits);
  mlir::Value fromF32(mlir::Value value, mlir::Type storage);
  bool isBf16(mlir::Value buffer) const;

  mlir::MLIRContext *context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;
  mlir::OpBuilder b;
  mlir::OpBuilder constants;
  mlir::Location loc;
  int vl;
  mlir::VectorType f32Vector;
  llvm::DenseMap<mlir::Attribute, mlir::Value> constantValues;
};

} // namespace ssprop::cpu

#endif // SSPROP_LIB_CODEGEN_CPUKERNELBUILDER_H
