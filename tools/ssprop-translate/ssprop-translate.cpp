//===- ssprop-translate.cpp - ssprop translation driver -------------------===//
//
// Like mlir-translate, with ssprop's translations: `--ssprop-to-cuda` and
// `--ssprop-to-cpu` turn lowered ssprop IR into kernels and their plan.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"
#include "ssprop/Codegen/CudaEmitter.h"
#include "ssprop/Core/Version.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  ssprop::registerToCudaTranslation();
  ssprop::registerToCpuTranslation();
  llvm::cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << ssprop::versionLine() << "\n"; });
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "ssprop translation driver\n"));
}
