//===- Compiler.cpp - the compiler behind one plain C++ call --------------===//

#include "ssprop/Compiler/Compiler.h"

#include "ssprop/Codegen/CpuEmitter.h"
#include "ssprop/Codegen/CudaEmitter.h"
#include "ssprop/Core/InputLimits.h"
#include "ssprop/Core/NetworkIR.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"
#include "ssprop/Dialect/SSProp/IR/SSPropOps.h"
#include "ssprop/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace ssprop {
namespace {

/// Parses, lowers and emits `irText`, collecting diagnostics as text.
class Session {
public:
  Session() : context(MLIRContext::Threading::DISABLED) {
    context.getOrLoadDialect<mlir::ssprop::SSPropDialect>();
    context.getOrLoadDialect<func::FuncDialect>();
    context.getDiagEngine().registerHandler([this](Diagnostic &diag) {
      llvm::raw_string_ostream os(diagnostics);
      print(os, diag.getLocation(), "error", diag.str());
      for (Diagnostic &note : diag.getNotes())
        if (!StringRef(note.str()).starts_with("see current operation"))
          print(os, note.getLocation(), "note", note.str());
    });
  }

  /// The lowered module, or null with `diagnostics` set.
  OwningOpRef<ModuleOp> lower(const std::string &irText) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(irText, &context, kBufferName);
    if (!module)
      return fail("cannot parse the layer IR");
    PassManager pm(&context);
    pm.addPass(mlir::ssprop::createSSPropLowerToGemmPass());
    if (failed(pm.run(*module)))
      return fail("--ssprop-lower-to-gemm failed");
    return module;
  }

  std::string diagnostics;

  static constexpr const char *kBufferName = "layer.mlir";

private:
  /// `layer.mlir:3:19: error: message`, as mlir-opt prints diagnostics.
  static void print(llvm::raw_ostream &os, Location loc, StringRef severity,
                    const std::string &message) {
    if (auto fileLoc = dyn_cast<FileLineColLoc>(loc))
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn() << ": ";
    os << severity << ": " << message << "\n";
  }

  OwningOpRef<ModuleOp> fail(const std::string &what) {
    if (diagnostics.empty())
      diagnostics = what;
    return nullptr;
  }

  MLIRContext context;
};

std::string print(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

} // namespace

std::string buildConvBackwardIR(const ConvLayerSpec &spec) {
  const ConvBackwardTypes t = getConvBackwardTypes(spec);
  const std::string inputGrad = spec.needInputGrad ? ", " + t.input : "";
  return "func.func @conv2d_backward(%dy: " + t.gradOutput +
         ", %x: " + t.input + ", %w: " + t.weight + ")\n    -> (" + t.weight +
         ", " + t.bias + inputGrad + ") {\n  " +
         formatConvBackwardOp(spec, spec.keep, "%gi, %gw, %gb", "%dy, %x, %w") +
         "\n  return %gw, %gb" + (spec.needInputGrad ? ", %gi" : "") + " : " +
         t.weight + ", " + t.bias + inputGrad + "\n}\n";
}

namespace {
/// The plans of every function of `irText`, lowered and emitted by `emit`.
template <typename Emit>
ModuleCompileResult compileModuleWith(const std::string &irText, Emit emit) {
  ModuleCompileResult result;
  if (std::optional<TextPosition> deep = findExcessiveNesting(irText)) {
    result.error = describeExcessiveNesting(Session::kBufferName, *deep);
    return result;
  }
  Session session;
  OwningOpRef<ModuleOp> module = session.lower(irText);
  if (!module) {
    result.error = session.diagnostics;
    return result;
  }
  for (auto func : module->getOps<func::FuncOp>()) {
    FailureOr<KernelPlan> plan = emit(func);
    if (failed(plan)) {
      result.error = session.diagnostics;
      return result;
    }
    result.plans.emplace_back(func.getSymName().str(), std::move(*plan));
  }
  result.loweredIR = print(*module);
  return result;
}

/// One layer's plan, emitted by `emit`.
template <typename Emit>
CompileResult compileLayer(const ConvLayerSpec &spec, Emit emit) {
  CompileResult result;
  result.error = getGeometryError(spec);
  if (!result.ok())
    return result;
  ModuleCompileResult module =
      compileModuleWith(buildConvBackwardIR(spec), emit);
  result.error = std::move(module.error);
  result.loweredIR = std::move(module.loweredIR);
  if (result.ok())
    result.plan = std::move(module.plans.front().second);
  return result;
}
} // namespace

CompileResult compileConvBackward(const ConvLayerSpec &spec,
                                  const CodegenOptions &options) {
  return compileLayer(
      spec, [&](func::FuncOp func) { return emitCudaPlan(func, options); });
}

CompileResult compileConvBackwardCpu(const ConvLayerSpec &spec,
                                     const CpuCodegenOptions &options) {
  return compileLayer(
      spec, [&](func::FuncOp func) { return emitCpuPlan(func, options); });
}

ModuleCompileResult compileModule(const std::string &irText,
                                  const CodegenOptions &options) {
  return compileModuleWith(
      irText, [&](func::FuncOp func) { return emitCudaPlan(func, options); });
}

std::optional<CpuTarget> getHostCpuTarget() { return detectHostCpu(); }

ObjectResult compileCpuKernel(const KernelSource &kernel,
                              const CpuTarget &target) {
  ObjectResult result;
  std::string error;
  result.object = compileCpuKernelObject(kernel.code, target, error);
  if (!error.empty())
    result.error = "cannot compile " + kernel.name + ": " + error;
  return result;
}

} // namespace ssprop
