//===- ssprop-opt.cpp - ssprop optimizer driver ---------------------------===//
//
// Parses, verifies and transforms IR that uses the ssprop dialect, like
// mlir-opt. Registers only the dialects ssprop IR and its CPU kernels are
// written in, and the passes that operate on them (with the CPU kernels'
// lowering to the LLVM dialect, --ssprop-cpu-to-llvm).
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"
#include "ssprop/Core/InputLimits.h"
#include "ssprop/Core/Version.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"
#include "ssprop/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::ssprop::registerSSPropPasses();
  ssprop::registerCpuToLlvmPipeline();

  llvm::cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << ssprop::versionLine() << "\n"; });

  mlir::DialectRegistry registry;
  registry.insert<mlir::ssprop::SSPropDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::tensor::TensorDialect>();
  ssprop::registerCpuKernelDialects(registry);

  // MlirOptMain(argc, argv, ...) split open: the input is checked for
  // excessive nesting before the parser sees it.
  auto [inputName, outputName] = mlir::registerAndParseCLIOptions(
      argc, argv, "ssprop optimizer driver\n", registry);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputName, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (std::optional<ssprop::TextPosition> deep =
          ssprop::findExcessiveNesting(input->getBuffer().str())) {
    llvm::errs() << ssprop::describeExcessiveNesting(
                        input->getBufferIdentifier().str(), *deep)
                 << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputName, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
