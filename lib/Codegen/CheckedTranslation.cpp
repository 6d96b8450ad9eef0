//===- CheckedTranslation.cpp - translations of checked input -------------===//

#include "CheckedTranslation.h"

#include "ssprop/Core/InputLimits.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/ParseUtilities.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace ssprop {

void registerCheckedTranslation(
    llvm::StringRef name, llvm::StringRef description,
    std::function<LogicalResult(Operation *, llvm::raw_ostream &)> translate,
    std::function<void(DialectRegistry &)> addDialects) {
  TranslateRegistration registration(
      name, description,
      [translate, addDialects](
          const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
          llvm::raw_ostream &os, MLIRContext *context) -> LogicalResult {
        const llvm::MemoryBuffer *buffer =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        if (std::optional<TextPosition> deep =
                findExcessiveNesting(buffer->getBuffer().str())) {
          llvm::errs() << describeExcessiveNesting(
                              buffer->getBufferIdentifier().str(), *deep)
                       << "\n";
          return failure();
        }
        DialectRegistry registry;
        registry.insert<mlir::ssprop::SSPropDialect, func::FuncDialect>();
        if (addDialects)
          addDialects(registry);
        context->appendDialectRegistry(registry);
        context->loadAllAvailableDialects();
        OwningOpRef<Operation *> op = parseSourceFileForTool(
            sourceMgr, ParserConfig(context), /*insertImplicitModule=*/true);
        if (!op || failed(verify(*op)))
          return failure();
        return translate(op.get(), os);
      });
}

} // namespace ssprop
