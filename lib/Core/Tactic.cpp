//===- Tactic.cpp - the implementations a layer's backward can run --------===//

#include "ssprop/Core/Tactic.h"

namespace ssprop {
namespace {
constexpr const char *kGeneratedPrefix = "generated:";

const char *getGatheredName(Device device) {
  return device == Device::cuda ? "gathered-cudnn" : "gathered-aten";
}

const char *getGemmName(Device device) {
  return device == Device::cuda ? "cublas" : "gemm-aten";
}
} // namespace

std::string Tactic::getName() const {
  switch (kind) {
  case TacticKind::generated:
    return kGeneratedPrefix +
           (device == Device::cuda ? tile.getName() : cpuTile.getName());
  case TacticKind::gathered:
    return getGatheredName(device);
  case TacticKind::gemm:
    return getGemmName(device);
  }
  return "?";
}

std::optional<Tactic> Tactic::parse(const std::string &name, Device device) {
  if (name == getGatheredName(device))
    return gathered(device);
  if (name == getGemmName(device))
    return gemm(device);
  const std::string prefix = kGeneratedPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  const std::string tileName = name.substr(prefix.size());
  if (device == Device::cpu) {
    if (std::optional<CpuTileConfig> tile = parseCpuTileConfig(tileName))
      return generated(*tile);
  } else if (std::optional<TileConfig> tile = parseTileConfig(tileName)) {
    return generated(*tile);
  }
  return std::nullopt;
}

} // namespace ssprop
