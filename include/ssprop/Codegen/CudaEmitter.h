//===- CudaEmitter.h - lowered ssprop IR to CUDA kernels --------*- C++ -*-===//

#ifndef SSPROP_CODEGEN_CUDAEMITTER_H
#define SSPROP_CODEGEN_CUDAEMITTER_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"

#include "mlir/Support/LogicalResult.h"

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace ssprop {

/// Emits the CUDA kernels and the launch sequence that compute `func`, a
/// function of mid-level ssprop ops (the output of --ssprop-lower-to-gemm).
/// Function arguments and results become the plan's argument and result
/// buffers. Emits a located error and fails on anything else.
mlir::FailureOr<KernelPlan> emitCudaPlan(mlir::func::FuncOp func,
                                         const CodegenOptions &options);

/// Registers the `--ssprop-to-cuda` translation (and its options) for
/// ssprop-translate.
void registerToCudaTranslation();

} // namespace ssprop

#endif // SSPROP_CODEGEN_CUDAEMITTER_H
