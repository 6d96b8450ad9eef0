//===- CpuEmitter.h - lowered ssprop IR to CPU kernels ----------*- C++ -*-===//
//
// The CPU code generator: the same mid-level ops the CUDA emitter walks
// become MLIR kernels (func, scf, vector, memref, arith) and a CPU kernel
// plan; the kernels are lowered with MLIR's own path to the LLVM dialect,
// translated to LLVM IR and compiled to an object for a CPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CODEGEN_CPUEMITTER_H
#define SSPROP_CODEGEN_CPUEMITTER_H

#include "ssprop/Core/CpuCodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"

#include "mlir/Support/LogicalResult.h"

#include <string>

namespace mlir {
class DialectRegistry;
class OpPassManager;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace ssprop {

/// Emits the CPU kernels and the call sequence that compute `func`, a
/// function of mid-level ssprop ops (the output of --ssprop-lower-to-gemm).
/// Function arguments and results become the plan's argument and result
/// buffers. Emits a located error and fails on anything it cannot generate
/// (f16 and f64 tensors, planes too large for the mask tables).
mlir::FailureOr<KernelPlan> emitCpuPlan(mlir::func::FuncOp func,
                                        const CpuCodegenOptions &options);

/// The dialects the CPU kernels are written in and lowered through.
void registerCpuKernelDialects(mlir::DialectRegistry &registry);

/// Lowers CPU kernel modules to the LLVM dialect: scf to cf, vector, memref,
/// arith, func (bare-pointer memrefs) and cf to LLVM, then adds to every
/// kernel `@name` the entry point the runtime calls, `@name_entry(ptr
/// params, i64 t0, i64 t1)`, which loads the parameters from 8-byte slots.
void buildCpuToLlvmPipeline(mlir::OpPassManager &pm);

/// Registers `--ssprop-cpu-to-llvm` (the pipeline above) for ssprop-opt.
void registerCpuToLlvmPipeline();

/// Registers the `--ssprop-to-cpu` translation (and its options) for
/// ssprop-translate.
void registerToCpuTranslation();

/// The suffix of a CPU kernel's entry point.
inline constexpr const char *kCpuEntrySuffix = "_entry";

/// The host CPU as LLVM sees it (name and features), the best instruction set
/// the kernels use on it, and how objects are compiled; std::nullopt on a CPU
/// without AVX2 and FMA.
std::optional<CpuTarget> detectHostCpu();

/// Registers the host's LLVM target (once per process).
void initializeHostTarget();

/// Compiles a CPU kernel module (its text) to a relocatable object for
/// `target`. Returns the object, or an empty string with `error` set.
std::string compileCpuKernelObject(const std::string &moduleText,
                                   const CpuTarget &target, std::string &error);

} // namespace ssprop

#endif // SSPROP_CODEGEN_CPUEMITTER_H
