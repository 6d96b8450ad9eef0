//===- Tactics.cpp - choosing the fastest implementation per layer --------===//
//
// The timing cache is a text file, one line per choice or rejection:
//   <layer key> \t <tactic> \t <milliseconds>
//   <layer key> \t <tactic> \t rejected
// after a header line `ssprop-timing-v2`, in a private folder, read only when
// it passes the trust checks (TrustedFiles.h). A save merges this process's
// choices into the file's current content under an exclusive lock (flock on
// `<file>.lock`) and rewrites it atomically (AtomicFile.h), so processes
// saving at once lose none of each other's choices; an unreadable or foreign
// file is ignored (and replaced at the next save).
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/Tactics.h"

#include "ssprop/Core/Version.h"
#include "ssprop/Runtime/AtomicFile.h"
#include "ssprop/Runtime/Sha256.h"
#include "ssprop/Runtime/TrustedFiles.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include <iostream>
#include <limits>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace ssprop {
namespace {
constexpr const char *kHeader = "ssprop-timing-v2";
/// The third field of a rejected candidate's line.
constexpr const char *kRejected = "rejected";
/// A timing cache larger than this is not one ssprop wrote.
constexpr int64_t kMaxTimingBytes = int64_t(64) << 20;

using Timings = TacticSelector::Timings;

/// The choices and rejections in a timing cache's text (none unless the
/// header matches).
Timings parseTimings(const std::string &text) {
  Timings timings;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    return timings;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, tactic, ms;
    if (!std::getline(fields, key, '\t') ||
        !std::getline(fields, tactic, '\t') || !std::getline(fields, ms))
      continue;
    if (ms == kRejected)
      timings.rejected[key].insert(tactic);
    else
      timings.choices[key] = {tactic, std::strtod(ms.c_str(), nullptr)};
  }
  return timings;
}

std::string formatTimings(const Timings &timings) {
  std::ostringstream out;
  out << kHeader << "\n";
  for (const auto &[key, choice] : timings.choices)
    out << key << "\t" << choice.first << "\t" << choice.second << "\n";
  for (const auto &[key, tactics] : timings.rejected)
    for (const std::string &tactic : tactics)
      out << key << "\t" << tactic << "\t" << kRejected << "\n";
  return out.str();
}

/// An exclusive lock on `path` (a lock file of ours) for its lifetime.
class FileLock {
public:
  explicit FileLock(const std::string &path)
      : fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                  0600)) {
    if (fd >= 0 && (!isOwnRegularFile(path) || ::flock(fd, LOCK_EX) != 0)) {
      ::close(fd);
      fd = -1;
    }
  }
  ~FileLock() {
    if (fd >= 0)
      ::close(fd); // releases the lock
  }
  bool held() const { return fd >= 0; }

private:
  int fd;
};

/// The forced tactic and its generation; SSPROP_TACTIC is its first value.
struct ForcedTactic {
  std::mutex mutex;
  std::string name;
  std::atomic<uint64_t> generation{0};

  ForcedTactic() {
    if (const char *forced = std::getenv("SSPROP_TACTIC"))
      name = forced;
  }
};

ForcedTactic &getForced() {
  static ForcedTactic forced;
  return forced;
}

std::string joinNames(const std::vector<Tactic> &tactics) {
  std::string names;
  for (const Tactic &tactic : tactics)
    names += (names.empty() ? "" : ", ") + tactic.getName();
  return names;
}

/// The candidate called `name`, if any.
std::optional<Tactic> findCandidate(const std::vector<Tactic> &candidates,
                                    const std::string &name) {
  for (const Tactic &candidate : candidates)
    if (candidate.getName() == name)
      return candidate;
  return std::nullopt;
}

} // namespace

std::vector<Tactic> getTacticCandidates(const ConvLayerSpec &spec,
                                        bool allowTf32) {
  std::vector<Tactic> candidates;
  for (const TileConfig &tile : getTileConfigs(spec.dtype))
    if (allowTf32 || spec.dtype != ElementType::f32 ||
        tile.kind == TileKind::simt)
      candidates.push_back(Tactic::generated(tile));
  candidates.push_back(Tactic::gathered());
  if (isPlainGemm(spec.getGeometry()))
    candidates.push_back(Tactic::gemm());
  return candidates;
}

std::vector<Tactic> getCpuTacticCandidates(const ConvLayerSpec &spec,
                                           std::optional<Isa> isa) {
  std::vector<Tactic> candidates;
  const ConvGeometry geometry = spec.getGeometry();
  if (isa && (spec.dtype == ElementType::f32 || spec.dtype == ElementType::bf16) &&
      checkCpuKernelGeometry(geometry.stride, geometry.kernel).empty())
    for (const CpuTileConfig &tile : getCpuTileConfigs(*isa))
      candidates.push_back(Tactic::generated(tile));
  candidates.push_back(Tactic::gathered(Device::cpu));
  if (isPlainGemm(geometry))
    candidates.push_back(Tactic::gemm(Device::cpu));
  return candidates;
}

bool isWorthGeneratingOnCpu(const ConvLayerSpec &spec) {
  return spec.getFlopsPerOutputChannel() *
             static_cast<double>(spec.weightShape[0]) >=
         kMinCpuGeneratedFlops;
}

std::string getForcedTacticName() {
  ForcedTactic &forced = getForced();
  std::lock_guard<std::mutex> lock(forced.mutex);
  return forced.name;
}

void setForcedTacticName(const std::string &name) {
  ForcedTactic &forced = getForced();
  std::lock_guard<std::mutex> lock(forced.mutex);
  forced.name = name;
  ++forced.generation;
}

uint64_t getTacticSettingsGeneration() { return getForced().generation; }

std::optional<Tactic> getForcedTactic(const std::vector<Tactic> &candidates) {
  const std::string forced = getForcedTacticName();
  if (forced.empty())
    return std::nullopt;
  if (std::optional<Tactic> tactic = findCandidate(candidates, forced))
    return tactic;
  const Device device = candidates.empty() ? Device::cuda
                                           : candidates.front().device;
  const Device other = device == Device::cuda ? Device::cpu : Device::cuda;
  if (!Tactic::parse(forced, device) && Tactic::parse(forced, other))
    return std::nullopt;
  throw TacticError("SSPROP_TACTIC=" + forced +
                    " is not a candidate for this layer; candidates: " +
                    joinNames(candidates));
}

std::string getTimingCacheKey(const DeviceIdentity &device) {
  std::ostringstream fields;
  fields << versionLine() << "\n"
         << device.name << "\n"
         << device.computeCapability << "\n"
         << device.driverVersion << "\n"
         << device.cudaVersion << "\n"
         << device.nvrtcVersion << "\n";
  return Sha256::hex(fields.str());
}

std::string getTimingCacheKey(const CpuIdentity &cpu) {
  std::ostringstream fields;
  fields << versionLine() << "\ncpu\n"
         << cpu.model << "\n"
         << cpu.target.cpu << "\n"
         << cpu.target.features << "\n"
         << getIsaName(cpu.target.isa) << "\n"
         << cpu.target.llvmVersion << "\n"
         << cpu.target.options << "\n";
  return Sha256::hex(fields.str());
}

TacticSelector::TacticSelector(const std::string &directory,
                               const DeviceIdentity &device) {
  open(directory, getTimingCacheKey(device));
}

TacticSelector::TacticSelector(const std::string &directory,
                               const CpuIdentity &cpu) {
  open(directory, getTimingCacheKey(cpu));
}

void TacticSelector::open(const std::string &directory,
                          const std::string &key) {
  std::string why;
  std::optional<std::string> root;
  if (!directory.empty())
    root = choosePrivateDirectory(directory, &why);
  if (root && (why = makePrivateDirectory(*root + "/timing")).empty())
    path = *root + "/timing/" + key + ".txt";
  else if (!directory.empty())
    std::cerr << "ssprop: warning: " << why
              << "; tactic timings are kept in memory only\n";
  timings = readTimings();
}

int TacticSelector::getTimings() const { return timed; }

Timings TacticSelector::readTimings() const {
  if (path.empty())
    return {};
  std::string why;
  std::optional<std::string> text =
      readTrustedFile(path, kMaxTimingBytes, &why);
  return text ? parseTimings(*text) : Timings();
}

void TacticSelector::save(const std::string &layerKey) {
  if (path.empty())
    return;
  // Merge into what other processes saved meanwhile; our news win.
  FileLock lock(path + ".lock");
  if (!lock.held())
    return; // timed again next run: no warning
  Timings merged = readTimings();
  if (auto it = timings.choices.find(layerKey); it != timings.choices.end())
    merged.choices[layerKey] = it->second;
  if (auto it = timings.rejected.find(layerKey); it != timings.rejected.end())
    merged.rejected[layerKey].insert(it->second.begin(), it->second.end());
  if (writeFileAtomically(path, formatTimings(merged), 0600).empty())
    timings = std::move(merged);
}

bool TacticSelector::isRejectedLocked(const std::string &layerKey,
                                      const Tactic &tactic) const {
  auto it = timings.rejected.find(layerKey);
  return it != timings.rejected.end() && it->second.count(tactic.getName());
}

bool TacticSelector::isRejected(const std::string &layerKey,
                                const Tactic &tactic) const {
  std::lock_guard<std::mutex> lock(mutex);
  return isRejectedLocked(layerKey, tactic);
}

void TacticSelector::rejectLocked(const std::string &layerKey,
                                  const Tactic &tactic,
                                  const std::string &why) {
  std::cerr << "ssprop: warning: " << tactic.getName()
            << " gives wrong results on layer " << layerKey << " (" << why
            << "); it will not run for this layer\n";
  timings.rejected[layerKey].insert(tactic.getName());
  save(layerKey);
}

void TacticSelector::reject(const std::string &layerKey, const Tactic &tactic,
                            const std::string &why) {
  std::lock_guard<std::mutex> lock(mutex);
  rejectLocked(layerKey, tactic, why);
}

std::optional<std::pair<Tactic, double>>
TacticSelector::findCached(const std::string &layerKey,
                           const std::vector<Tactic> &candidates) const {
  auto it = timings.choices.find(layerKey);
  if (it == timings.choices.end())
    return std::nullopt;
  std::optional<Tactic> tactic = findCandidate(candidates, it->second.first);
  if (!tactic || isRejectedLocked(layerKey, *tactic))
    return std::nullopt;
  return std::make_pair(*tactic, it->second.second);
}

std::optional<Tactic>
TacticSelector::lookup(const std::string &layerKey,
                       const std::vector<Tactic> &candidates) const {
  if (std::optional<Tactic> forced = getForcedTactic(candidates))
    return forced;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto cached = findCached(layerKey, candidates))
    return cached->first;
  return std::nullopt;
}

std::optional<double>
TacticSelector::getMilliseconds(const std::string &layerKey,
                                const Tactic &tactic) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = timings.choices.find(layerKey);
  if (it == timings.choices.end() || it->second.first != tactic.getName())
    return std::nullopt;
  return it->second.second;
}

Tactic TacticSelector::choose(const std::string &layerKey,
                              const std::vector<Tactic> &candidates,
                              const Timer &timer) {
  if (std::optional<Tactic> forced = getForcedTactic(candidates))
    return *forced;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto cached = findCached(layerKey, candidates))
      return cached->first;
  }
  // Timed without the lock, so that other layers' lookups (the training
  // thread's, while a background thread times) do not wait; two threads
  // timing one layer both save a valid choice.
  std::optional<Tactic> best;
  double bestMs = std::numeric_limits<double>::infinity();
  std::string failures, report;
  for (const Tactic &candidate : candidates) {
    if (isRejected(layerKey, candidate))
      continue;
    try {
      ++timed;
      double ms = timer(candidate);
      report +=
          "\n  " + candidate.getName() + ": " + std::to_string(ms) + " ms";
      if (ms < bestMs)
        best = candidate, bestMs = ms;
    } catch (const RejectedCandidate &rejected) {
      reject(layerKey, candidate, rejected.what());
    } catch (const std::exception &error) {
      failures += "\n  " + candidate.getName() + ": " + error.what();
    }
  }
  if (!best)
    throw TacticError("no tactic could run the layer:" + failures);
  // A candidate that fails is a bug worth seeing even when another runs.
  if (!failures.empty())
    std::cerr << "ssprop: tactics that failed on layer " << layerKey << ":"
              << failures << "\n";
  if (const char *log = std::getenv("SSPROP_LOG"); log && log == std::string("1"))
    std::cerr << "ssprop: tactic " << best->getName() << " for layer "
              << layerKey << report << "\n";
  std::lock_guard<std::mutex> lock(mutex);
  timings.choices[layerKey] = {best->getName(), bestMs};
  save(layerKey);
  return *best;
}

} // namespace ssprop
