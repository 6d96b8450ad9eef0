//===- CodegenOptions.cpp - emitter options and tile configurations -------===//

#include "ssprop/Codegen/CodegenOptions.h"

#include <algorithm>

namespace ssprop {

const char *getArchName(Arch arch) {
  return arch == Arch::sm80 ? "sm_80" : "sm_90";
}

int getArchNumber(Arch arch) { return arch == Arch::sm80 ? 80 : 90; }

std::optional<Arch> parseArch(const std::string &name) {
  if (name == "sm_80")
    return Arch::sm80;
  if (name == "sm_90")
    return Arch::sm90;
  return std::nullopt;
}

std::string TileConfig::getName() const {
  return std::to_string(bm) + "x" + std::to_string(bn) + "x" +
         std::to_string(bk) + "_" + std::to_string(tm) + "x" +
         std::to_string(tn);
}

bool TileConfig::operator==(const TileConfig &other) const {
  return bm == other.bm && bn == other.bn && bk == other.bk &&
         tm == other.tm && tn == other.tn;
}

const std::vector<TileConfig> &getSimtTileConfigs() {
  // Large tiles for big GEMMs, small ones for the narrow layers and small k.
  static const std::vector<TileConfig> configs = {
      {64, 64, 16, 4, 4},   // 256 threads
      {128, 128, 8, 8, 8},  // 256 threads
      {32, 64, 16, 2, 4},   // 256 threads
  };
  return configs;
}

std::optional<TileConfig> parseTileConfig(const std::string &name) {
  for (const TileConfig &config : getSimtTileConfigs())
    if (config.getName() == name)
      return config;
  return std::nullopt;
}

int getKeptBucket(int k, int channels, int granularity) {
  int rounded = (k + granularity - 1) / granularity * granularity;
  return std::min(rounded, channels);
}

} // namespace ssprop
