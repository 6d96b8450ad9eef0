//===- CpuLowering.cpp - CPU kernels to LLVM IR and objects ---------------===//
//
// MLIR's own path from the kernels' dialects to the LLVM dialect, the entry
// points the runtime calls, the translation to LLVM IR and the object file
// for a CPU (LLVM's TargetMachine), all in process.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"

#include "CpuKernelBuilder.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <mutex>

using namespace mlir;

namespace ssprop {
namespace {

/// How every kernel object is compiled (part of its cache key).
constexpr const char *kObjectOptions =
    "O3 reloc=pic code-model=small ir-pipeline=O2";

/// Adds `@name_entry(ptr params, i64 t0, i64 t1)` for each kernel `@name`:
/// parameter i is the 8-byte slot params[i] (a pointer or an integer).
struct AddCpuEntryPointsPass
    : public PassWrapper<AddCpuEntryPointsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AddCpuEntryPointsPass)

  StringRef getArgument() const override {
    return "ssprop-add-cpu-entry-points";
  }
  StringRef getDescription() const override {
    return "add the runtime's entry point to every CPU kernel";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(module.getContext());
    auto ptr = LLVM::LLVMPointerType::get(module.getContext());
    auto i64 = b.getI64Type();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (!func.isExternal() && !func.getName().ends_with(kCpuEntrySuffix))
        kernels.push_back(func);
    for (LLVM::LLVMFuncOp kernel : kernels) {
      Location loc = kernel.getLoc();
      b.setInsertionPointAfter(kernel);
      auto type = LLVM::LLVMFunctionType::get(
          LLVM::LLVMVoidType::get(module.getContext()), {ptr, i64, i64});
      auto entry = b.create<LLVM::LLVMFuncOp>(
          loc, (kernel.getName() + kCpuEntrySuffix).str(), type);
      Block *body = entry.addEntryBlock(b);
      b.setInsertionPointToStart(body);
      ArrayRef<Type> params = kernel.getFunctionType().getParams();
      SmallVector<Value> args;
      for (size_t i = 0; i + 2 < params.size(); ++i) {
        Value slot = b.create<LLVM::GEPOp>(
            loc, ptr, i64, body->getArgument(0),
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        Value value = b.create<LLVM::LoadOp>(loc, i64, slot);
        args.push_back(isa<LLVM::LLVMPointerType>(params[i])
                           ? b.create<LLVM::IntToPtrOp>(loc, ptr, value)
                           : value);
      }
      args.append({body->getArgument(1), body->getArgument(2)});
      b.create<LLVM::CallOp>(loc, kernel, args);
      b.create<LLVM::ReturnOp>(loc, ValueRange());
      // Only the entry point is called from outside.
      kernel.setLinkage(LLVM::Linkage::Internal);
    }
  }
};

std::string joinFeatures() {
  std::vector<std::string> features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.push_back((feature.getValue() ? "+" : "-") +
                       feature.getKey().str());
  std::sort(features.begin(), features.end());
  std::string joined;
  for (const std::string &feature : features)
    joined += (joined.empty() ? "" : ",") + feature;
  return joined;
}

/// The LLVM IR of a kernel module, optimised for `machine`.
std::unique_ptr<llvm::Module> translate(ModuleOp module,
                                        llvm::LLVMContext &llvmContext,
                                        llvm::TargetMachine &machine) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "ssprop_cpu_kernel");
  if (!llvmModule)
    return nullptr;
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple().str());
  // The kernels come straight from MLIR: LLVM's function passes fold the
  // index arithmetic and hoist the invariant address computations.
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2)
      .run(*llvmModule, modules);
  return llvmModule;
}

} // namespace

void initializeHostTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

void registerCpuKernelDialects(DialectRegistry &registry) {
  registry
      .insert<arith::ArithDialect, func::FuncDialect, LLVM::LLVMDialect,
              memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void buildCpuToLlvmPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(std::make_unique<AddCpuEntryPointsPass>());
}

void registerCpuToLlvmPipeline() {
  PassPipelineRegistration<>(
      "ssprop-cpu-to-llvm",
      "lower ssprop's CPU kernels to the LLVM dialect, with entry points",
      buildCpuToLlvmPipeline);
}

std::optional<CpuTarget> detectHostCpu() {
  CpuTarget host;
  host.cpu = llvm::sys::getHostCPUName().str();
  host.features = joinFeatures();
  std::optional<Isa> isa = getIsaForFeatures(host.features);
  if (!isa)
    return std::nullopt;
  host.isa = *isa;
  host.llvmVersion = LLVM_VERSION_STRING;
  host.options = kObjectOptions;
  return host;
}

std::string compileCpuKernelObject(const std::string &moduleText,
                                   const CpuTarget &target,
                                   std::string &error) {
  std::string diagnostics;
  // Sets `error` to `what` and the diagnostics so far; returns no object.
  auto fail = [&](const std::string &what) {
    error = what + (diagnostics.empty() ? "" : ":\n" + diagnostics);
    return std::string();
  };
  DialectRegistry registry;
  registerCpuKernelDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.getDiagEngine().registerHandler(
      [&](Diagnostic &diag) { diagnostics += diag.str() + "\n"; });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(moduleText, &context, "cpu_kernel.mlir");
  if (!module)
    return fail("cannot parse the kernel");
  PassManager pm(&context);
  buildCpuToLlvmPipeline(pm);
  if (failed(pm.run(*module)))
    return fail("cannot lower the kernel to the LLVM dialect");

  initializeHostTarget();
  const std::string triple = llvm::sys::getProcessTriple();
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return fail("no LLVM target for " + triple + ": " + lookupError);
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, llvm::TargetOptions(),
      llvm::Reloc::PIC_, llvm::CodeModel::Small,
      llvm::CodeGenOptLevel::Aggressive));
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translate(*module, llvmContext, *machine);
  if (!llvmModule)
    return fail("cannot translate the kernel to LLVM IR");
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return fail("LLVM cannot emit an object for " + target.cpu);
  codegen.run(*llvmModule);
  return std::string(object.begin(), object.end());
}

} // namespace ssprop
