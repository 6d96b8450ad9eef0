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

#include "ssprop/Codegen/CodegenOptions.h"
#include "ssprop/Codegen/KernelPlan.h"

#include <array>
#include <cstdint>
#include <string>

namespace ssprop {

enum class Select { topk, random };

/// One convolution's backward: the key of everything the compiler specialises.
struct ConvLayerSpec {
  std::array<int64_t, 4> inputShape;  ///< N, Cin, H, W
  std::array<int64_t, 4> weightShape; ///< Cout, Cin / groups, KH, KW
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  ElementType dtype = ElementType::f32;
  double keep = 1.0;
  Select select = Select::topk;
  bool weightOnly = false;
  /// False for a network's first layer: no input gradient is computed.
  bool needInputGrad = true;
};

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

/// k = max(floor(keep * Cout), 1): the kept channels, as the lowering
/// computes them (SparsityAttr::getNumKept). Everything compiled for a layer
/// depends on keep only through k.
int64_t getNumKept(const ConvLayerSpec &spec);

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
