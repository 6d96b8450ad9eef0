//===- SSPropOps.h - ssprop operations --------------------------*- C++ -*-===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_H
#define SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>
#include <string>

#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"

namespace mlir::ssprop {

/// The random generator `ssprop.random_seed` reads and advances.
struct GeneratorResource
    : public SideEffects::Resource::Base<GeneratorResource> {
  StringRef getName() final { return "<ssprop random generator>"; }
};

/// The product of `factors` (a static shape's element count, say), or nullopt
/// when it overflows 64 bits.
std::optional<int64_t> checkedProduct(ArrayRef<int64_t> factors);

/// A shape as the IR writes it: `8x?x32x32`.
std::string formatShape(ArrayRef<int64_t> shape);

/// `plain` for a 1x1, stride-1, unpadded convolution, `im2col` otherwise.
Addressing inferAddressing(ArrayRef<int64_t> weightShape,
                           ArrayRef<int64_t> stride, ArrayRef<int64_t> padding);

/// The GEMM of a dgrad writing `gradInputShape` from `weightShape`, reading
/// `numKept` gathered channels (all when nullopt). Null when a shape is
/// dynamic or a size overflows 64 bits.
GemmAttr inferDgradGemm(MLIRContext *context, ArrayRef<int64_t> gradInputShape,
                        ArrayRef<int64_t> weightShape, ArrayRef<int64_t> stride,
                        ArrayRef<int64_t> padding, int64_t groups,
                        std::optional<int64_t> numKept);

/// The GEMM of a wgrad writing `gradWeightShape` rows from `inputShape` and
/// `gradOutputShape`. Null when a shape is dynamic or a size overflows.
GemmAttr inferWgradGemm(MLIRContext *context, ArrayRef<int64_t> inputShape,
                        ArrayRef<int64_t> gradOutputShape,
                        ArrayRef<int64_t> gradWeightShape,
                        ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                        int64_t groups);

} // namespace mlir::ssprop

#define GET_OP_CLASSES
#include "ssprop/Dialect/SSProp/IR/SSPropOps.h.inc"

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_H
