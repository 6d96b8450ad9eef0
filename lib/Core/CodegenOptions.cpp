//===- CodegenOptions.cpp - emitter options and tile configurations -------===//

#include "ssprop/Core/CodegenOptions.h"

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
  auto str = [](int value) { return std::to_string(value); };
  if (kind == TileKind::tensorCore)
    return "tc" + str(bm) + "x" + str(bn) + "_w" + str(getNumThreads() / 32) +
           "s" + str(stages);
  return str(bm) + "x" + str(bn) + "x" + str(bk) + "_" + str(tm) + "x" +
         str(tn);
}

int TileConfig::getSharedBytes() const {
  if (kind == TileKind::simt)
    return (bm + bn) * bk * 4;
  // Rows of 64 bytes of K plus 16 bytes of padding (Prelude.cuh).
  return stages * (bm + bn) * 80;
}

bool TileConfig::operator==(const TileConfig &other) const {
  return bm == other.bm && bn == other.bn && bk == other.bk && tm == other.tm &&
         tn == other.tn && kind == other.kind && stages == other.stages;
}

const std::vector<TileConfig> &getSimtTileConfigs() {
  // Large tiles for big GEMMs, small ones for the narrow layers and small k.
  static const std::vector<TileConfig> configs = {
      {64, 64, 16, 4, 4},  // 256 threads
      {128, 128, 8, 8, 8}, // 256 threads
      {32, 64, 16, 2, 4},  // 256 threads
  };
  return configs;
}

const std::vector<TileConfig> &getTensorCoreTileConfigs() {
  // Deeper pipelines for the smaller tiles, each within 48 KiB of static
  // shared memory: 40, 45 and 40 KiB.
  static const std::vector<TileConfig> configs = {
      TileConfig::tensorCore(64, 64, 32, 32, 4),   // 4 warps, 4 stages
      TileConfig::tensorCore(128, 64, 64, 32, 3),  // 4 warps, 3 stages
      TileConfig::tensorCore(128, 128, 64, 32, 2), // 8 warps, 2 stages
  };
  return configs;
}

std::vector<TileConfig> getTileConfigs(ElementType type) {
  if (type == ElementType::i32) // no GEMM reads integers
    return {};
  std::vector<TileConfig> configs = getTensorCoreTileConfigs();
  const std::vector<TileConfig> &simt = getSimtTileConfigs();
  configs.insert(configs.end(), simt.begin(), simt.end());
  return configs;
}

const TileConfig &getDefaultTileConfig() {
  return getTensorCoreTileConfigs().front();
}

std::optional<TileConfig> parseTileConfig(const std::string &name) {
  for (const auto *configs :
       {&getSimtTileConfigs(), &getTensorCoreTileConfigs()})
    for (const TileConfig &config : *configs)
      if (config.getName() == name)
        return config;
  return std::nullopt;
}

int getKeptBucket(int k, int channels, int granularity) {
  int rounded = (k + granularity - 1) / granularity * granularity;
  return std::min(rounded, channels);
}

} // namespace ssprop
