//===- CheckedTranslation.h - translations of checked input -----*- C++ -*-===//
//
// What ssprop-translate's translations share: the input is refused with a
// diagnostic when it nests too deeply to parse (the parser would exhaust its
// stack), then parsed and verified before the translation sees it.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_LIB_CODEGEN_CHECKEDTRANSLATION_H
#define SSPROP_LIB_CODEGEN_CHECKEDTRANSLATION_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

namespace mlir {
class Operation;
} // namespace mlir

namespace ssprop {

/// Registers `name` with mlir-translate: input nested within the limit of
/// ssprop/Core/InputLimits.h, parsed with the ssprop and func dialects and
/// those `addDialects` adds, verified, then handed to `translate`.
void registerCheckedTranslation(
    llvm::StringRef name, llvm::StringRef description,
    std::function<mlir::LogicalResult(mlir::Operation *, llvm::raw_ostream &)>
        translate,
    std::function<void(mlir::DialectRegistry &)> addDialects = nullptr);

} // namespace ssprop

#endif // SSPROP_LIB_CODEGEN_CHECKEDTRANSLATION_H
