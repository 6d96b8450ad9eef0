//===- Tactic.cpp - the implementations a layer's backward can run --------===//

#include "ssprop/Core/Tactic.h"

namespace ssprop {
namespace {
constexpr const char *kGeneratedPrefix = "generated:";
constexpr const char *kGathered = "gathered-cudnn";
constexpr const char *kGemm = "cublas";
} // namespace

std::string Tactic::getName() const {
  switch (kind) {
  case TacticKind::generated:
    return kGeneratedPrefix + tile.getName();
  case TacticKind::gathered:
    return kGathered;
  case TacticKind::gemm:
    return kGemm;
  }
  return "?";
}

std::optional<Tactic> Tactic::parse(const std::string &name) {
  if (name == kGathered)
    return gathered();
  if (name == kGemm)
    return gemm();
  const std::string prefix = kGeneratedPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  if (std::optional<TileConfig> tile =
          parseTileConfig(name.substr(prefix.size())))
    return generated(*tile);
  return std::nullopt;
}

} // namespace ssprop
