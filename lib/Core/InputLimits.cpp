//===- InputLimits.cpp - what IR text the tools refuse before parsing -----===//

#include "ssprop/Core/InputLimits.h"

namespace ssprop {

std::optional<TextPosition> findExcessiveNesting(std::string_view text,
                                                 int limit) {
  int depth = 0;
  int64_t line = 1, column = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
    } else if (c == '"') { // a string literal: skip to its closing quote
      for (++i; i < text.size() && text[i] != '"'; ++i, ++column)
        if (text[i] == '\\')
          ++i, ++column;
      ++column;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i + 1 < text.size() && text[i + 1] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > limit)
        return TextPosition{line, column};
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && (i == 0 || text[i - 1] != '-'))) {
      depth = depth > 0 ? depth - 1 : 0; // `->` closes nothing
    }
  }
  return std::nullopt;
}

std::string describeExcessiveNesting(const std::string &bufferName,
                                     TextPosition position, int limit) {
  return bufferName + ":" + std::to_string(position.line) + ":" +
         std::to_string(position.column) +
         ": error: input nested deeper than " + std::to_string(limit) +
         " levels of brackets; ssprop refuses it instead of exhausting the "
         "parser's stack";
}

} // namespace ssprop
