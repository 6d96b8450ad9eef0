//===- ssprop-opt.cpp - ssprop optimizer driver ---------------------------===//
//
// Parses, verifies and transforms IR that uses the ssprop dialect, like
// mlir-opt. Registers only the dialects ssprop IR and its CPU kernels are
// written in, and the passes that operate on them (with the CPU kernels'
// lowering to the LLVM dialect, --ssprop-cpu-to-llvm).
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"
#include "ssprop/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::ssprop::registerSSPropPasses();
  ssprop::registerCpuToLlvmPipeline();

  mlir::DialectRegistry registry;
  registry.insert<mlir::ssprop::SSPropDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::tensor::TensorDialect>();
  ssprop::registerCpuKernelDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ssprop optimizer driver\n", registry));
}
