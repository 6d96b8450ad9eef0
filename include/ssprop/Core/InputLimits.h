//===- InputLimits.h - what IR text the tools refuse before parsing -*- C++
//-*-===//
//
// MLIR's parser and printer recurse once per nesting level of operations,
// types and attributes; text nested deeply enough (thousands of levels)
// overflows the stack. The tools and the compiler facade refuse such input
// with a diagnostic before parsing it.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_INPUTLIMITS_H
#define SSPROP_CORE_INPUTLIMITS_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ssprop {

/// The deepest bracket nesting accepted: far beyond real IR, far below what
/// exhausts an 8 MiB stack.
inline constexpr int kMaxNestingDepth = 512;

/// A 1-based line and column in a text.
struct TextPosition {
  int64_t line, column;
};

/// Where `text` first opens a bracket ( `(`, `[`, `{`, `<` ) beyond `limit`
/// levels of nesting, outside string literals and `//` comments; std::nullopt
/// when it never does.
std::optional<TextPosition> findExcessiveNesting(std::string_view text,
                                                 int limit = kMaxNestingDepth);

/// `<buffer>:<line>:<column>: error: ...`: the diagnostic for excessive
/// nesting at `position`, as MLIR prints diagnostics.
std::string describeExcessiveNesting(const std::string &bufferName,
                                     TextPosition position,
                                     int limit = kMaxNestingDepth);

} // namespace ssprop

#endif // SSPROP_CORE_INPUTLIMITS_H
