//===- Passes.h - ssprop passes ---------------------------------*- C++ -*-===//

#ifndef SSPROP_TRANSFORMS_PASSES_H
#define SSPROP_TRANSFORMS_PASSES_H

#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewriterBase;
namespace ssprop {
class Conv2DBackwardOp;

#define GEN_PASS_DECL
#include "ssprop/Transforms/Passes.h.inc"

/// Rewrites one conv2d_backward into the mid-level ops (see
/// --ssprop-lower-to-gemm). Emits an error on `op` and fails when it cannot.
LogicalResult lowerConv2DBackwardToGemm(RewriterBase &rewriter,
                                        Conv2DBackwardOp op);

#define GEN_PASS_REGISTRATION
#include "ssprop/Transforms/Passes.h.inc"

} // namespace ssprop
} // namespace mlir

#endif // SSPROP_TRANSFORMS_PASSES_H
