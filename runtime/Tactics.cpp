//===- Tactics.cpp - choosing the fastest implementation per layer --------===//
//
// The timing cache is a text file, one choice per line:
//   <layer key> \t <tactic> \t <milliseconds>
// after a header line `ssprop-timing-v1`. It is rewritten whole through a
// temporary file and a rename; an unreadable or foreign file is ignored (and
// replaced at the next save).
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/Tactics.h"

#include "ssprop/Runtime/Sha256.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace ssprop {
namespace {
constexpr const char *kHeader = "ssprop-timing-v1";
} // namespace

std::vector<std::string> getTacticCandidates(const ConvLayerSpec &spec,
                                             bool allowTf32) {
  std::vector<std::string> candidates;
  for (const TileConfig &tile : getTileConfigs(spec.dtype))
    if (allowTf32 || spec.dtype != ElementType::f32 ||
        tile.kind == TileKind::simt)
      candidates.push_back("generated:" + tile.getName());
  candidates.push_back("gathered-cudnn");
  bool plain = spec.groups == 1 && spec.weightShape[2] == 1 &&
               spec.weightShape[3] == 1 &&
               spec.stride == std::array<int64_t, 2>{1, 1} &&
               spec.padding == std::array<int64_t, 2>{0, 0};
  if (plain)
    candidates.push_back("cublas");
  return candidates;
}

std::string getTimingCacheKey(const DeviceIdentity &device) {
  std::ostringstream fields;
  fields << "ssprop " SSPROP_VERSION "\n"
         << device.name << "\n"
         << device.computeCapability << "\n"
         << device.driverVersion << "\n"
         << device.cudaVersion << "\n"
         << device.nvrtcVersion << "\n";
  return Sha256::hex(fields.str());
}

TacticSelector::TacticSelector(std::string directory, DeviceIdentity device) {
  if (!directory.empty())
    path = directory + "/timing/" + getTimingCacheKey(device) + ".txt";
  load();
}

int TacticSelector::getTimings() const {
  std::lock_guard<std::mutex> lock(mutex);
  return timings;
}

void TacticSelector::load() {
  std::ifstream in(path);
  std::string line;
  if (path.empty() || !std::getline(in, line) || line != kHeader)
    return;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, tactic, ms;
    if (std::getline(fields, key, '\t') && std::getline(fields, tactic, '\t') &&
        std::getline(fields, ms))
      choices[key] = {tactic, std::strtod(ms.c_str(), nullptr)};
  }
}

void TacticSelector::save() {
  if (path.empty())
    return;
  std::error_code error;
  fs::create_directories(fs::path(path).parent_path(), error);
  std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary);
    out << kHeader << "\n";
    for (const auto &[key, choice] : choices)
      out << key << "\t" << choice.first << "\t" << choice.second << "\n";
    if (!out)
      return fs::remove(temporary, error), void();
  }
  fs::rename(temporary, path, error);
}

std::optional<std::string>
getForcedTactic(const std::vector<std::string> &candidates) {
  const char *forced = std::getenv("SSPROP_TACTIC");
  if (!forced || !*forced)
    return std::nullopt;
  if (std::find(candidates.begin(), candidates.end(), forced) !=
      candidates.end())
    return std::string(forced);
  std::string known;
  for (const std::string &candidate : candidates)
    known += (known.empty() ? "" : ", ") + candidate;
  throw TacticError("SSPROP_TACTIC=" + std::string(forced) +
                    " is not a candidate for this layer; candidates: " + known);
}

std::string TacticSelector::choose(const std::string &layerKey,
                                   const std::vector<std::string> &candidates,
                                   const Timer &timer) {
  if (std::optional<std::string> forced = getForcedTactic(candidates))
    return *forced;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = choices.find(layerKey);
      it != choices.end() && std::find(candidates.begin(), candidates.end(),
                                       it->second.first) != candidates.end())
    return it->second.first;
  std::string best;
  double bestMs = std::numeric_limits<double>::infinity();
  std::string failures, report;
  for (const std::string &candidate : candidates) {
    try {
      ++timings;
      double ms = timer(candidate);
      report += "\n  " + candidate + ": " + std::to_string(ms) + " ms";
      if (ms < bestMs)
        best = candidate, bestMs = ms;
    } catch (const std::exception &error) {
      failures += "\n  " + candidate + ": " + error.what();
    }
  }
  if (best.empty())
    throw TacticError("no tactic could run the layer:" + failures);
  // A candidate that fails is a bug worth seeing even when another runs.
  if (!failures.empty())
    std::cerr << "ssprop: tactics that failed on layer " << layerKey << ":"
              << failures << "\n";
  if (const char *log = std::getenv("SSPROP_LOG"); log && log == std::string("1"))
    std::cerr << "ssprop: tactic " << best << " for layer " << layerKey
              << report << "\n";
  choices[layerKey] = {best, bestMs};
  save();
  return best;
}

} // namespace ssprop
