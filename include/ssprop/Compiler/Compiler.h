//===- Compiler.h - the compiler behind one plain C++ call ------*- C++ -*-===//
//
// The wall between the compiler (MLIR and LLVM, built without exceptions or
// RTTI of their own) and the runtime: a convolution layer spec goes in; the
// lowered IR and the kernel plan (CUDA sources or CPU kernel modules,
// buffers, launches) come out; CPU kernels compile to objects, which the ORC
// JIT loads into the process. Nothing here mentions an MLIR or LLVM type, so
// runtime code can include it freely.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_COMPILER_COMPILER_H
#define SSPROP_COMPILER_COMPILER_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/CpuCodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"
#include "ssprop/Core/LayerSpec.h"
#include "ssprop/Core/NetworkIR.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ssprop {

struct CompileResult {
  /// Empty on success; otherwise the compiler's diagnostics.
  std::string error;
  /// The layer's plan. Argument buffers 0, 1, 2 are grad_output, input,
  /// weight; results 0, 1, 2 are grad_weight, grad_bias and (when requested)
  /// grad_input.
  KernelPlan plan;
  /// The lowered IR the plan was emitted from, for reading and debugging.
  std::string loweredIR;

  bool ok() const { return error.empty(); }
};

/// The `ssprop.conv2d_backward` IR of a layer, as text.
std::string buildConvBackwardIR(const ConvLayerSpec &spec);

/// Builds the layer's IR, lowers it with --ssprop-lower-to-gemm and emits its
/// CUDA kernels. Thread-safe.
CompileResult compileConvBackward(const ConvLayerSpec &spec,
                                  const CodegenOptions &options);

/// Builds the layer's IR, lowers it with --ssprop-lower-to-gemm and emits its
/// CPU kernels (a plan on Device::cpu). Thread-safe.
CompileResult compileConvBackwardCpu(const ConvLayerSpec &spec,
                                     const CpuCodegenOptions &options);

/// The host CPU as LLVM names it, the best instruction set the CPU kernels
/// use on it and how objects are compiled; std::nullopt on a CPU without
/// AVX2 and FMA (no generated kernels).
std::optional<CpuTarget> getHostCpuTarget();

struct ObjectResult {
  std::string error;
  /// A relocatable object holding the kernel's entry point.
  std::string object;
  bool ok() const { return error.empty(); }
};

/// Compiles a CPU kernel (KernelSource::code, an MLIR module) to an object
/// for `target`. Thread-safe.
ObjectResult compileCpuKernel(const KernelSource &kernel,
                              const CpuTarget &target);

/// The entry point of a CPU kernel: `params` holds one 8-byte slot per
/// KernelParam (a pointer or an integer); it computes tiles [begin, end).
using CpuKernelEntry = void (*)(const uint64_t *params, int64_t begin,
                                int64_t end);

/// Links CPU kernel objects into the process with LLVM's ORC JIT and finds
/// their entry points. Thread-safe.
class CpuObjectLoader {
public:
  CpuObjectLoader();
  ~CpuObjectLoader();
  CpuObjectLoader(const CpuObjectLoader &) = delete;
  CpuObjectLoader &operator=(const CpuObjectLoader &) = delete;

  /// The entry point of `kernel` in `object`, linked on first request; null
  /// with `error` set when the object cannot be linked.
  CpuKernelEntry load(const std::string &object, const std::string &kernel,
                      std::string &error);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// The kernel plans of every function in a module of conv2d_backward ops
/// (such as examples/resnet50_backward.mlir), each lowered and emitted.
struct ModuleCompileResult {
  std::string error;
  std::vector<std::pair<std::string, KernelPlan>> plans;
  std::string loweredIR;
  bool ok() const { return error.empty(); }
};
ModuleCompileResult compileModule(const std::string &irText,
                                  const CodegenOptions &options);

/// The layers of a module of conv2d_backward ops (as ssprop.export_ir writes
/// it), verified: one per distinct (location name, shapes, geometry, select,
/// grads), its keeps those of its ops in order; named after the op's
/// location (`loc("layer1.0.conv1")`, else `file:line`). A layer has a bias
/// when some op's bias gradient is used, needs its input gradient when some
/// op's input gradient is used.
struct NetworkReadResult {
  std::string error;
  std::vector<ExportedLayer> layers;
  bool ok() const { return error.empty(); }
};
NetworkReadResult readNetworkLayers(const std::string &irText);

} // namespace ssprop

#endif // SSPROP_COMPILER_COMPILER_H
