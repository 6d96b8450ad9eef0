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
#include "ssprop/Core/CpuCodegenOptions.h"

#include <optional>
#include <ostream>
#include <string>

namespace ssprop {

enum class TacticKind {
  /// ssprop's generated kernels with one tile configuration.
  generated,
  /// Gather the kept channels, run the framework's dense backward on them
  /// (cuDNN on CUDA, oneDNN on the CPU), scatter: the reference path.
  gathered,
  /// A plain-GEMM layer's backward as matrix products on the kept channels
  /// (cuBLAS on CUDA, ATen's BLAS on the CPU).
  gemm,
};

struct Tactic {
  TacticKind kind = TacticKind::gathered;
  /// The tile of a generated CUDA tactic; unused by the others.
  TileConfig tile = getDefaultTileConfig();
  /// The tile of a generated CPU tactic; unused by the others.
  CpuTileConfig cpuTile = getDefaultCpuTileConfig();
  Device device = Device::cuda;

  static Tactic generated(const TileConfig &tile) {
    return {TacticKind::generated, tile};
  }
  static Tactic generated(const CpuTileConfig &tile) {
    Tactic tactic{TacticKind::generated};
    tactic.cpuTile = tile;
    tactic.device = Device::cpu;
    return tactic;
  }
  static Tactic gathered(Device device = Device::cuda) {
    return withDevice(TacticKind::gathered, device);
  }
  static Tactic gemm(Device device = Device::cuda) {
    return withDevice(TacticKind::gemm, device);
  }

  /// CUDA: `generated:<tile>`, `gathered-cudnn`, `cublas`. CPU:
  /// `generated:<cpu tile>`, `gathered-aten`, `gemm-aten`.
  std::string getName() const;
  /// The tactic of `device` a name spells, or std::nullopt.
  static std::optional<Tactic> parse(const std::string &name,
                                     Device device = Device::cuda);

  bool operator==(const Tactic &other) const {
    if (kind != other.kind || device != other.device)
      return false;
    if (kind != TacticKind::generated)
      return true;
    return device == Device::cuda ? tile == other.tile
                                  : cpuTile == other.cpuTile;
  }
  bool operator!=(const Tactic &other) const { return !(*this == other); }

private:
  static Tactic withDevice(TacticKind kind, Device device) {
    Tactic tactic{kind};
    tactic.device = device;
    return tactic;
  }
};

/// Prints the tactic's name (logs, test failures).
inline std::ostream &operator<<(std::ostream &os, const Tactic &tactic) {
  return os << tactic.getName();
}

} // namespace ssprop

#endif // SSPROP_CORE_TACTIC_H
