//===- CpuKernelBuilder.cpp - building CPU kernels with MLIR builders -----===//

#include "CpuKernelBuilder.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace ssprop::cpu {

Type getStorageType(MLIRContext *context, ElementType type) {
  switch (type) {
  case ElementType::f32:
    return Float32Type::get(context);
  case ElementType::bf16:
  case ElementType::f16:
    return IntegerType::get(context, 16);
  case ElementType::i32:
    return IntegerType::get(context, 32);
  }
  return {};
}

MemRefType getBufferType(MLIRContext *context, ElementType type,
                         int64_t numElements) {
  return MemRefType::get({numElements}, getStorageType(context, type));
}

void loadCpuKernelDialects(MLIRContext &context) {
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      memref::MemRefDialect, scf::SCFDialect,
                      vector::VectorDialect>();
}

KernelBuilder::KernelBuilder(MLIRContext *context, const std::string &name,
                             ArrayRef<Type> argTypes, int vectorLength)
    : context(context), b(context), constants(context),
      loc(UnknownLoc::get(context)), vl(vectorLength),
      f32Vector(VectorType::get({vectorLength}, Float32Type::get(context))) {
  module = ModuleOp::create(loc);
  SmallVector<Type> types(argTypes);
  types.append(2, b.getIndexType());
  b.setInsertionPointToEnd(module->getBody());
  func = b.create<func::FuncOp>(loc, name, b.getFunctionType(types, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  constants.setInsertionPointToStart(entry);
}

OwningOpRef<ModuleOp> KernelBuilder::finish() {
  b.create<func::ReturnOp>(loc);
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

Value KernelBuilder::constant(Attribute attr) {
  Value &value = constantValues[attr];
  if (!value) {
    value = constants.create<arith::ConstantOp>(loc, cast<TypedAttr>(attr));
    constants.setInsertionPointAfter(value.getDefiningOp());
  }
  return value;
}

Value KernelBuilder::index(int64_t value) {
  return constant(b.getIndexAttr(value));
}

Value KernelBuilder::f32(double value) {
  return constant(b.getF32FloatAttr(static_cast<float>(value)));
}

Value KernelBuilder::i32(int32_t value) {
  return constant(b.getI32IntegerAttr(value));
}

Value KernelBuilder::i64(int64_t value) {
  return constant(b.getI64IntegerAttr(value));
}

Value KernelBuilder::zeroVector(int64_t width) {
  auto type = VectorType::get({width ? width : vl}, b.getF32Type());
  return constant(DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
}

Value KernelBuilder::maskConstant(ArrayRef<bool> lanes) {
  auto type =
      VectorType::get({static_cast<int64_t>(lanes.size())}, b.getI1Type());
  return constant(DenseElementsAttr::get(type, lanes));
}

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

namespace {
std::optional<int64_t> constantOf(Value value) {
  return getConstantIntValue(OpFoldResult(value));
}
} // namespace

Value KernelBuilder::add(Value x, Value y) {
  auto cx = constantOf(x), cy = constantOf(y);
  if (cx && cy)
    return index(*cx + *cy);
  if (cy == 0)
    return x;
  if (cx == 0)
    return y;
  return b.create<arith::AddIOp>(loc, x, y);
}

Value KernelBuilder::sub(Value x, Value y) {
  auto cx = constantOf(x), cy = constantOf(y);
  if (cx && cy)
    return index(*cx - *cy);
  if (cy == 0)
    return x;
  return b.create<arith::SubIOp>(loc, x, y);
}

Value KernelBuilder::mul(Value x, Value y) {
  auto cx = constantOf(x), cy = constantOf(y);
  if (cx && cy)
    return index(*cx * *cy);
  if (cx == 0 || cy == 0)
    return index(0);
  if (cy == 1)
    return x;
  if (cx == 1)
    return y;
  return b.create<arith::MulIOp>(loc, x, y);
}

Value KernelBuilder::div(Value x, int64_t y) {
  if (auto cx = constantOf(x))
    return index(*cx / y);
  if (y == 1)
    return x;
  return b.create<arith::DivUIOp>(loc, x, index(y));
}

Value KernelBuilder::rem(Value x, int64_t y) {
  if (auto cx = constantOf(x))
    return index(*cx % y);
  if (y == 1)
    return index(0);
  return b.create<arith::RemUIOp>(loc, x, index(y));
}

Value KernelBuilder::min(Value x, Value y) {
  auto cx = constantOf(x), cy = constantOf(y);
  if (cx && cy)
    return index(std::min(*cx, *cy));
  return b.create<arith::MinUIOp>(loc, x, y);
}

Value KernelBuilder::max(Value x, Value y) {
  auto cx = constantOf(x), cy = constantOf(y);
  if (cx && cy)
    return index(std::max(*cx, *cy));
  return b.create<arith::MaxUIOp>(loc, x, y);
}

Value KernelBuilder::cmp(arith::CmpIPredicate predicate, Value x, Value y) {
  return b.create<arith::CmpIOp>(loc, predicate, x, y);
}

Value KernelBuilder::select(Value cond, Value x, Value y) {
  return b.create<arith::SelectOp>(loc, cond, x, y);
}

Value KernelBuilder::toIndex(Value value) {
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), value);
}

Value KernelBuilder::toI32(Value value) {
  return b.create<arith::IndexCastOp>(loc, b.getI32Type(), value);
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void KernelBuilder::loop(Value lower, Value upper, int64_t step,
                         const Body &body) {
  loop(lower, upper, step, {}, [&](Value iv, ValueRange) {
    body(iv);
    return SmallVector<Value>();
  });
}

SmallVector<Value> KernelBuilder::loop(Value lower, Value upper, int64_t step,
                                       ValueRange inits, const IterBody &body) {
  auto forOp = b.create<scf::ForOp>(
      loc, lower, upper, index(step), inits,
      [&](OpBuilder &nested, Location, Value iv, ValueRange iters) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> results = body(iv, iters);
        b.create<scf::YieldOp>(loc, results);
      });
  return SmallVector<Value>(forOp.getResults());
}

void KernelBuilder::ifThen(Value cond, const std::function<void()> &then) {
  if (auto known = constantOf(cond)) {
    if (*known)
      then();
    return;
  }
  b.create<scf::IfOp>(loc, cond, [&](OpBuilder &nested, Location) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
    then();
    b.create<scf::YieldOp>(loc);
  });
}

void KernelBuilder::ifThenElse(Value cond, const std::function<void()> &then,
                               const std::function<void()> &otherwise) {
  auto inBranch = [&](const std::function<void()> &branch) {
    return [&](OpBuilder &nested, Location) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(nested.getInsertionBlock(),
                          nested.getInsertionPoint());
      branch();
      b.create<scf::YieldOp>(loc);
    };
  };
  b.create<scf::IfOp>(loc, cond, inBranch(then), inBranch(otherwise));
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

bool KernelBuilder::isBf16(Value buffer) const {
  return cast<MemRefType>(buffer.getType()).getElementType().isInteger(16);
}

Value KernelBuilder::intLike(int64_t value, Type element, Value like) {
  auto attr = IntegerAttr::get(element, value);
  if (auto vector = dyn_cast<VectorType>(like.getType()))
    return constant(DenseElementsAttr::get(
        VectorType::get(vector.getShape(), element), Attribute(attr)));
  return constant(attr);
}

Type KernelBuilder::shapedLike(Type element, Value like) {
  if (auto vector = dyn_cast<VectorType>(like.getType()))
    return VectorType::get(vector.getShape(), element);
  return element;
}

Value KernelBuilder::toF32(Value bits) {
  // bf16 is the upper half of an f32.
  Type i32 = b.getI32Type();
  Value wide = b.create<arith::ExtUIOp>(loc, shapedLike(i32, bits), bits);
  Value shifted = b.create<arith::ShLIOp>(loc, wide, intLike(16, i32, bits));
  return b.create<arith::BitcastOp>(loc, shapedLike(b.getF32Type(), bits),
                                    shifted);
}

Value KernelBuilder::fromF32(Value value, Type storage) {
  if (!storage.isInteger(16))
    return value;
  // Round to nearest even as PyTorch does; NaN becomes the quiet NaN 0x7fc0.
  Type i32 = b.getI32Type();
  Value bits = b.create<arith::BitcastOp>(loc, shapedLike(i32, value), value);
  Value sixteen = intLike(16, i32, value);
  Value lsb =
      b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, bits, sixteen),
                              intLike(1, i32, value));
  Value bias = b.create<arith::AddIOp>(loc, lsb, intLike(0x7fff, i32, value));
  Value rounded = b.create<arith::ShRUIOp>(
      loc, b.create<arith::AddIOp>(loc, bits, bias), sixteen);
  Value narrow =
      b.create<arith::TruncIOp>(loc, shapedLike(storage, value), rounded);
  Value isNan =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, value, value);
  return b.create<arith::SelectOp>(loc, isNan, intLike(0x7fc0, storage, value),
                                   narrow);
}

Value KernelBuilder::loadF32(Value buffer, Value at) {
  Value value = b.create<memref::LoadOp>(loc, buffer, at);
  return isBf16(buffer) ? toF32(value) : value;
}

void KernelBuilder::storeF32(Value value, Value buffer, Value at) {
  Type storage = cast<MemRefType>(buffer.getType()).getElementType();
  b.create<memref::StoreOp>(loc, fromF32(value, storage), buffer, at);
}

Value KernelBuilder::loadI32(Value buffer, Value at) {
  return b.create<memref::LoadOp>(loc, buffer, at);
}

void KernelBuilder::storeI32(Value value, Value buffer, Value at) {
  b.create<memref::StoreOp>(loc, value, buffer, at);
}

Value KernelBuilder::loadNarrowVector(Value buffer, Value at, int64_t width) {
  Type storage = cast<MemRefType>(buffer.getType()).getElementType();
  Value value = b.create<vector::LoadOp>(loc, VectorType::get({width}, storage),
                                         buffer, at);
  return isBf16(buffer) ? toF32(value) : value;
}

void KernelBuilder::storeNarrowVector(Value vector, Value buffer, Value at) {
  Type storage = cast<MemRefType>(buffer.getType()).getElementType();
  b.create<vector::StoreOp>(loc, fromF32(vector, storage), buffer, at);
}

Value KernelBuilder::loadVector(Value buffer, Value at) {
  return loadNarrowVector(buffer, at, vl);
}

void KernelBuilder::storeVector(Value vector, Value buffer, Value at) {
  storeNarrowVector(vector, buffer, at);
}

Value KernelBuilder::maskedLoadVector(Value buffer, Value at, Value mask) {
  if (!isBf16(buffer))
    return b.create<vector::MaskedLoadOp>(loc, f32Vector, buffer, at, mask,
                                          zeroVector());
  Type i16 = b.getIntegerType(16);
  auto bitsType = VectorType::get({vl}, i16);
  return toF32(b.create<vector::MaskedLoadOp>(loc, bitsType, buffer, at, mask,
                                              intLike(0, i16, mask)));
}

void KernelBuilder::maskedStoreVector(Value vector, Value buffer, Value at,
                                      Value mask) {
  Type storage = cast<MemRefType>(buffer.getType()).getElementType();
  b.create<vector::MaskedStoreOp>(loc, buffer, at, mask,
                                  fromF32(vector, storage));
}

Value KernelBuilder::table(const std::string &name, ArrayRef<int32_t> values) {
  auto type =
      MemRefType::get({static_cast<int64_t>(values.size())}, b.getI32Type());
  auto tensorType = RankedTensorType::get(type.getShape(), b.getI32Type());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module->getBody());
  b.create<memref::GlobalOp>(loc, name, b.getStringAttr("private"), type,
                             DenseElementsAttr::get(tensorType, values),
                             /*constant=*/true, /*alignment=*/IntegerAttr());
  Value global = constants.create<memref::GetGlobalOp>(loc, type, name);
  constants.setInsertionPointAfter(global.getDefiningOp());
  return global;
}

Value KernelBuilder::maskFromTable(Value table, Value at) {
  auto type = VectorType::get({vl}, b.getI32Type());
  Value entries = b.create<vector::LoadOp>(loc, type, table, at);
  // `slt 0` is the sign bit: vmaskmovps reads exactly that.
  return cmp(arith::CmpIPredicate::slt, entries,
             intLike(0, b.getI32Type(), entries));
}

//===----------------------------------------------------------------------===//
// Vector arithmetic
//===----------------------------------------------------------------------===//

Value KernelBuilder::fma(Value x, Value y, Value acc) {
  return b.create<vector::FMAOp>(loc, x, y, acc);
}

Value KernelBuilder::broadcast(Value scalar) {
  return b.create<vector::BroadcastOp>(loc, f32Vector, scalar);
}

Value KernelBuilder::sumLanes(Value vector) {
  return b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, vector,
                                       arith::FastMathFlags::reassoc);
}

Value KernelBuilder::sumLanesInOrder(Value vector) {
  return b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, vector);
}

Value KernelBuilder::shuffle(Value x, Value y, ArrayRef<int64_t> lanes) {
  return b.create<vector::ShuffleOp>(loc, x, y, lanes);
}

Value KernelBuilder::addf(Value x, Value y) {
  return b.create<arith::AddFOp>(loc, x, y);
}

} // namespace ssprop::cpu
