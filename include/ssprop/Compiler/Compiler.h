//===- Compiler.h - the compiler behind one plain C++ call ------*- C++ -*-===//
//
// The wall between the compiler (MLIR, built without exceptions or RTTI of
// its own) and the runtime: a convolution layer spec goes in; the lowered IR
// and the kernel plan (CUDA sources, buffers, launches) come out. Nothing here
// mentions an MLIR type, so runtime code can include it freely.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_COMPILER_COMPILER_H
#define SSPROP_COMPILER_COMPILER_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"
#include "ssprop/Core/LayerSpec.h"

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

} // namespace ssprop

#endif // SSPROP_COMPILER_COMPILER_H
