//===- ssprop-translate.cpp - ssprop translation driver -------------------===//
//
// Like mlir-translate, with ssprop's translations: `--ssprop-to-cuda` turns
// lowered ssprop IR into CUDA kernels and their launch plan.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CudaEmitter.h"
#include "ssprop/Core/Version.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  ssprop::registerToCudaTranslation();
  llvm::cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << ssprop::versionLine() << "\n"; });
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "ssprop translation driver\n"));
}
