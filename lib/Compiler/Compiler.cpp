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

#include <algorithm>

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

  /// The parsed and verified module, or null with `diagnostics` set.
  OwningOpRef<ModuleOp> parse(const std::string &irText) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(irText, &context, kBufferName);
    if (!module)
      return fail("cannot parse the layer IR");
    return module;
  }

  /// `irText` parsed (and lowered when `lower`), or null with `error` set:
  /// text nested too deeply for the parser's stack, or the diagnostics.
  OwningOpRef<ModuleOp> load(const std::string &irText, bool lower,
                             std::string &error) {
    if (std::optional<TextPosition> deep = findExcessiveNesting(irText)) {
      error = describeExcessiveNesting(kBufferName, *deep);
      return nullptr;
    }
    OwningOpRef<ModuleOp> module = lower ? this->lower(irText) : parse(irText);
    if (!module)
      error = diagnostics;
    return module;
  }

  /// The lowered module, or null with `diagnostics` set.
  OwningOpRef<ModuleOp> lower(const std::string &irText) {
    OwningOpRef<ModuleOp> module = parse(irText);
    if (!module)
      return nullptr;
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
  Session session;
  OwningOpRef<ModuleOp> module =
      session.load(irText, /*lower=*/true, result.error);
  if (!module)
    return result;
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

namespace {

/// A layer's name: its op's location name, else `file:line`.
std::string getLayerName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getFilename().str() + ":" + std::to_string(file.getLine());
  return "layer";
}

ElementType getElementType(Type type) {
  if (type.isF16())
    return ElementType::f16;
  if (type.isBF16())
    return ElementType::bf16;
  return ElementType::f32;
}

/// The op's layer, keeping its own keep.
ExportedLayer readLayer(mlir::ssprop::Conv2DBackwardOp op) {
  ExportedLayer layer;
  layer.name = getLayerName(op.getLoc());
  ConvLayerSpec &spec = layer.spec;
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  for (int i = 0; i < 4; ++i) {
    spec.inputShape[i] = inputType.getDimSize(i);
    spec.weightShape[i] = weightType.getDimSize(i);
  }
  for (int i = 0; i < 2; ++i) {
    spec.stride[i] = op.getStride()[i];
    spec.padding[i] = op.getPadding()[i];
    spec.dilation[i] = op.getDilation()[i];
  }
  spec.groups = static_cast<int64_t>(op.getGroups());
  spec.dtype = getElementType(inputType.getElementType());
  auto sparsity = op.getSparsity();
  spec.keep = sparsity.getKeepFraction();
  spec.select = sparsity.getSelect() == mlir::ssprop::SelectKind::random
                    ? Select::random
                    : Select::topk;
  spec.weightOnly = sparsity.getGrads() == mlir::ssprop::GradsKind::weight_only;
  spec.needInputGrad = !op->getResult(0).use_empty();
  layer.hasBias = !op->getResult(2).use_empty();
  return layer;
}

/// Whether two ops belong to one layer: everything but keep and the
/// gradients used.
bool isSameLayer(const ExportedLayer &a, const ExportedLayer &b) {
  ConvLayerSpec x = a.spec, y = b.spec;
  x.keep = y.keep = 1.0;
  x.needInputGrad = y.needInputGrad = true;
  return a.name == b.name && x.inputShape == y.inputShape &&
         x.weightShape == y.weightShape && x.stride == y.stride &&
         x.padding == y.padding && x.dilation == y.dilation &&
         x.groups == y.groups && x.dtype == y.dtype && x.select == y.select &&
         x.weightOnly == y.weightOnly;
}

} // namespace

NetworkReadResult readNetworkLayers(const std::string &irText) {
  NetworkReadResult result;
  Session session;
  OwningOpRef<ModuleOp> module =
      session.load(irText, /*lower=*/false, result.error);
  if (!module)
    return result;
  module->walk([&](mlir::ssprop::Conv2DBackwardOp op) {
    ExportedLayer layer = readLayer(op);
    auto same = std::find_if(
        result.layers.begin(), result.layers.end(),
        [&](const ExportedLayer &known) { return isSameLayer(known, layer); });
    if (same == result.layers.end()) {
      layer.keeps = {layer.spec.keep};
      result.layers.push_back(std::move(layer));
      return;
    }
    same->keeps.push_back(layer.spec.keep);
    same->hasBias |= layer.hasBias;
    same->spec.needInputGrad |= layer.spec.needInputGrad;
  });
  if (result.layers.empty())
    result.error = "the module has no ssprop.conv2d_backward op";
  return result;
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
