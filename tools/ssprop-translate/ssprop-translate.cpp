//===- ssprop-translate.cpp - ssprop translation driver -------------------===//
//
// Like mlir-translate, with ssprop's translations: `--ssprop-to-cuda` turns
// lowered ssprop IR into CUDA kernels and their launch plan.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CudaEmitter.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  ssprop::registerToCudaTranslation();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "ssprop translation driver\n"));
}
