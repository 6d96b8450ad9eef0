//===- SSPropDialect.h - ssprop dialect -------------------------*- C++ -*-===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPDIALECT_H
#define SSPROP_DIALECT_SSPROP_IR_SSPROPDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ssprop/Dialect/SSProp/IR/SSPropOpsDialect.h.inc"

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPDIALECT_H
