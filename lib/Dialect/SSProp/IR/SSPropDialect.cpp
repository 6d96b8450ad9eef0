//===- SSPropDialect.cpp - ssprop dialect ---------------------------------===//

#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"
#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.h"
#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"

using namespace mlir;
using namespace mlir::ssprop;

#include "ssprop/Dialect/SSProp/IR/SSPropOpsDialect.cpp.inc"

void SSPropDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ssprop/Dialect/SSProp/IR/SSPropOps.cpp.inc"
      >();
  registerAttributes();
}
