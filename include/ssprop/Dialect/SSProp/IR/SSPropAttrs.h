//===- SSPropAttrs.h - ssprop attributes and enums --------------*- C++ -*-===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_H
#define SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "ssprop/Dialect/SSProp/IR/SSPropEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.h.inc"

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_H
