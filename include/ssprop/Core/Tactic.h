//===- Tactic.h - the implementations a layer's backward can run -*- C++
//-*-===//
//
// TensorRT-style tactics: the ways one layer's backward can be computed.
// Inside ssprop a tactic is this value type; its name is spelled only at the
// edges (SSPROP_TACTIC, the timing cache file, logs, the op listing tactics).
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_TACTIC_H
#define SSPROP_CORE_TACTIC_H

#include "ssprop/Core/CodegenOptions.h"

#include <optional>
#include <ostream>
#include <string>

namespace ssprop {

enum class TacticKind {
  /// ssprop's generated kernels with one tile configuration.
  generated,
  /// Gather the kept channels, run the framework's dense backward on them
  /// (cuDNN on CUDA), scatter: the reference path.
  gathered,
  /// A plain-GEMM layer's backward as matrix products on the kept channels
  /// (cuBLAS on CUDA).
  gemm,
};

struct Tactic {
  TacticKind kind = TacticKind::gathered;
  /// The tile of a generated tactic; unused by the others.
  TileConfig tile = getDefaultTileConfig();

  static Tactic generated(const TileConfig &tile) {
    return {TacticKind::generated, tile};
  }
  static Tactic gathered() { return {TacticKind::gathered}; }
  static Tactic gemm() { return {TacticKind::gemm}; }

  /// `generated:<tile>`, `gathered-cudnn`, `cublas`.
  std::string getName() const;
  /// The tactic a name spells, or std::nullopt.
  static std::optional<Tactic> parse(const std::string &name);

  bool operator==(const Tactic &other) const {
    return kind == other.kind &&
           (kind != TacticKind::generated || tile == other.tile);
  }
  bool operator!=(const Tactic &other) const { return !(*this == other); }
};

/// Prints the tactic's name (logs, test failures).
inline std::ostream &operator<<(std::ostream &os, const Tactic &tactic) {
  return os << tactic.getName();
}

} // namespace ssprop

#endif // SSPROP_CORE_TACTIC_H
