//===- SSPropAttrs.cpp - ssprop attributes --------------------------------===//

#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.h"
#include "ssprop/Dialect/SSProp/IR/SSPropDialect.h"

#include "ssprop/Core/LayerSpec.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdlib>
#include <optional>

using namespace mlir;
using namespace mlir::ssprop;

#include "ssprop/Dialect/SSProp/IR/SSPropEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.cpp.inc"

void SSPropDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ssprop/Dialect/SSProp/IR/SSPropAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

SparsityAttr SparsityAttr::get(MLIRContext *context, double keep,
                               SelectKind select, GradsKind grads) {
  return Base::get(context, APFloat(keep), select, grads);
}

int64_t SparsityAttr::getNumKept(int64_t numChannels) const {
  return ::ssprop::keptChannels(getKeepFraction(), numChannels);
}

LogicalResult
SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     APFloat keep, SelectKind, GradsKind) {
  double value = keep.convertToDouble();
  if (!std::isfinite(value) || value <= 0.0 || value > 1.0)
    return emitError() << "sparsity keep must be in (0, 1], got "
                       << ::ssprop::formatKeep(value);
  return success();
}

namespace {
/// Parses the value of `keep`: a float or integer literal. Words such as `nan`
/// or `inf` are named in the error instead of a generic "expected attribute".
ParseResult parseKeep(AsmParser &parser, std::optional<double> &keep) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef word;
  if (succeeded(parser.parseOptionalKeyword(&word)))
    return parser.emitError(loc)
           << "sparsity keep must be a number in (0, 1], got '" << word << "'";
  Attribute literal;
  if (parser.parseAttribute(literal))
    return failure();
  // Untyped literals parse as f64 or i64; another type (`0.4 : f32`) would
  // silently round, so it is rejected.
  if (auto number = dyn_cast<FloatAttr>(literal); number && number.getType().isF64())
    keep = number.getValueAsDouble();
  else if (auto number = dyn_cast<IntegerAttr>(literal);
           number && number.getType().isSignlessInteger(64))
    keep = static_cast<double>(number.getInt());
  else
    return parser.emitError(loc)
           << "sparsity keep must be an untyped or f64 number in (0, 1], got "
           << literal;
  return success();
}

/// Parses the value of an enum parameter, listing the valid cases on error.
template <typename EnumT>
ParseResult parseEnumValue(AsmParser &parser, StringRef paramName,
                           std::optional<EnumT> (*symbolize)(StringRef),
                           StringRef validCases, std::optional<EnumT> &result) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef word;
  if (parser.parseKeyword(&word))
    return failure();
  result = symbolize(word);
  if (!result)
    return parser.emitError(loc)
           << "unknown sparsity " << paramName << " '" << word
           << "', expected one of: " << validCases;
  return success();
}
} // namespace

Attribute SparsityAttr::parse(AsmParser &parser, Type) {
  SMLoc startLoc = parser.getCurrentLocation();
  std::optional<double> keep;
  std::optional<SelectKind> select;
  std::optional<GradsKind> grads;

  auto parseParameter = [&]() -> ParseResult {
    SMLoc loc = parser.getCurrentLocation();
    StringRef name;
    if (parser.parseKeyword(&name) || parser.parseEqual())
      return failure();
    auto isDuplicate = [&](bool seen) {
      if (seen)
        parser.emitError(loc) << "duplicate sparsity parameter '" << name << "'";
      return seen;
    };
    if (name == "keep")
      return failure(isDuplicate(keep.has_value()) ||
                     failed(parseKeep(parser, keep)));
    if (name == "select")
      return failure(isDuplicate(select.has_value()) ||
                     failed(parseEnumValue(parser, name, symbolizeSelectKind,
                                           "topk, random", select)));
    if (name == "grads")
      return failure(isDuplicate(grads.has_value()) ||
                     failed(parseEnumValue(parser, name, symbolizeGradsKind,
                                           "all, weight_only", grads)));
    return parser.emitError(loc)
           << "unknown sparsity parameter '" << name
           << "', expected one of: keep, select, grads";
  };

  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                     parseParameter))
    return {};
  if (!keep)
    return parser.emitError(startLoc, "sparsity is missing parameter 'keep'"),
           Attribute();
  if (!select)
    return parser.emitError(startLoc, "sparsity is missing parameter 'select'"),
           Attribute();
  return getChecked([&] { return parser.emitError(startLoc); },
                    parser.getContext(), APFloat(*keep), *select,
                    grads.value_or(GradsKind::all));
}

void SparsityAttr::print(AsmPrinter &printer) const {
  printer << "<keep = " << ::ssprop::formatKeep(getKeepFraction())
          << ", select = " << stringifySelectKind(getSelect());
  if (getGrads() != GradsKind::all)
    printer << ", grads = " << stringifyGradsKind(getGrads());
  printer << ">";
}
