//===- CpuCodegenOptions.cpp - CPU instruction sets and register tiles ----===//

#include "ssprop/Core/CpuCodegenOptions.h"

#include <sstream>

namespace ssprop {

const char *getIsaName(Isa isa) { return isa == Isa::avx2 ? "avx2" : "avx512"; }

std::optional<Isa> parseIsa(const std::string &name) {
  if (name == "avx2")
    return Isa::avx2;
  if (name == "avx512")
    return Isa::avx512;
  return std::nullopt;
}

int getVectorLength(Isa isa) { return isa == Isa::avx2 ? 8 : 16; }

std::string CpuTileConfig::getName() const {
  std::ostringstream os;
  os << "w" << wgradRows << "x" << wgradCols << "_d" << dgradChannels << "x"
     << dgradVectors << (dgradTapsOuter ? "t" : "j");
  return os.str();
}

bool CpuTileConfig::operator==(const CpuTileConfig &other) const {
  return wgradRows == other.wgradRows && wgradCols == other.wgradCols &&
         dgradChannels == other.dgradChannels &&
         dgradVectors == other.dgradVectors &&
         dgradTapsOuter == other.dgradTapsOuter;
}

const std::vector<CpuTileConfig> &getCpuTileConfigs(Isa isa) {
  // AVX2 has 16 vector registers: 6x2 wgrad accumulators + 2 x vectors + dy
  // + mask; 5x2 dgrad accumulators + 2 masks + 2 dy vectors + a broadcast.
  // The winners of the prototype's sweep (docs/codegen.md).
  static const std::vector<CpuTileConfig> avx2 = {
      {6, 2, 5, 2, true},
      {5, 2, 5, 2, false},
      {4, 2, 4, 3, true},
  };
  // AVX-512 has 32: three times the accumulators.
  static const std::vector<CpuTileConfig> avx512 = {
      {8, 3, 8, 3, true},
      {6, 4, 6, 3, false},
      {6, 2, 5, 2, true},
  };
  return isa == Isa::avx2 ? avx2 : avx512;
}

const CpuTileConfig &getDefaultCpuTileConfig() {
  return getCpuTileConfigs(Isa::avx2).front();
}

std::optional<CpuTileConfig> parseCpuTileConfig(const std::string &name) {
  for (Isa isa : {Isa::avx2, Isa::avx512})
    for (const CpuTileConfig &tile : getCpuTileConfigs(isa))
      if (tile.getName() == name)
        return tile;
  return std::nullopt;
}

std::optional<Isa> getIsaForFeatures(const std::string &features) {
  auto has = [&](const std::string &feature) {
    std::string padded = "," + features + ",";
    return padded.find(",+" + feature + ",") != std::string::npos;
  };
  if (has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl"))
    return Isa::avx512;
  if (has("avx2") && has("fma"))
    return Isa::avx2;
  return std::nullopt;
}

std::string checkCpuKernelGeometry(const std::array<int64_t, 2> &stride,
                                   const std::array<int64_t, 2> &kernel) {
  for (int axis = 0; axis < 2; ++axis) {
    if (stride[axis] > kMaxCpuKernelStride)
      return "its stride " + std::to_string(stride[axis]) +
             " is larger than the " + std::to_string(kMaxCpuKernelStride) +
             " the CPU kernels are generated for";
    if (kernel[axis] > kMaxCpuKernelExtent)
      return "its kernel extent " + std::to_string(kernel[axis]) +
             " is larger than the " + std::to_string(kMaxCpuKernelExtent) +
             " the CPU kernels are generated for";
  }
  return "";
}

} // namespace ssprop
