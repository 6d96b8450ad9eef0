//===- KernelCache.cpp - compiled kernels in memory and on disk -----------===//
//
// Disk entries: `<dir>/kernels/<key>.cubin` and `<dir>/kernels/<key>.o`,
// each holding a header line `ssprop-cubin-v1 <sha256> <size>\n` (or
// `ssprop-object-v1 ...`) and then the cubin or CPU object, written
// atomically (AtomicFile.h): readers see either nothing or a whole entry. The
// directories are private and entries are read only when they pass the trust
// checks (TrustedFiles.h). A reader that finds a bad header, size or checksum
// deletes the entry and recompiles. A hit refreshes the file's modification
// time, which eviction uses as the LRU order (one bound covers both kinds);
// eviction removes only entries and stale temporary files of ssprop's own
// naming and header.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/KernelCache.h"

#include "ssprop/Core/Version.h"
#include "ssprop/Runtime/AtomicFile.h"
#include "ssprop/Runtime/Nvrtc.h"
#include "ssprop/Runtime/Sha256.h"
#include "ssprop/Runtime/TrustedFiles.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ssprop {

/// A kind of entry: its header's magic and its file name's suffix.
struct KernelCache::EntryKind {
  const char *magic, *suffix;
};

namespace {

using EntryKind = KernelCache::EntryKind;
const EntryKind kCubinEntry{"ssprop-cubin-v1", ".cubin"};
const EntryKind kObjectEntry{"ssprop-object-v1", ".o"};

/// Temporary files older than this were left by a crashed writer.
constexpr auto kStaleTemporary = std::chrono::hours(1);
/// The longest header line an entry can have (magic, 64 hex digits, size).
constexpr size_t kMaxHeaderBytes = 128;

bool isHexKey(const std::string &text) {
  return text.size() == 64 &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// `<key><suffix>`: an entry's file name.
bool isEntryName(const std::string &name, const EntryKind &kind) {
  const size_t suffix = std::strlen(kind.suffix);
  return name.size() == 64 + suffix && isHexKey(name.substr(0, 64)) &&
         name.compare(64, suffix, kind.suffix) == 0;
}

/// `<key><suffix>.tmp.<pid>.<hex>`: a temporary file of the atomic writer.
bool isTemporaryName(const std::string &name, const EntryKind &kind) {
  const std::string prefix = std::string(kind.suffix) + kTemporarySuffix;
  return name.size() > 64 + prefix.size() && isHexKey(name.substr(0, 64)) &&
         name.compare(64, prefix.size(), prefix) == 0;
}

/// The payload of an entry's content, or std::nullopt when its header, size
/// or checksum is wrong. The size is checked against the content before use.
std::optional<std::string> parseEntry(const std::string &content,
                                      const EntryKind &kind) {
  const size_t newline = content.find('\n');
  if (newline == std::string::npos || newline > kMaxHeaderBytes)
    return std::nullopt;
  std::istringstream header(content.substr(0, newline));
  std::string magic, checksum, size, extra;
  if (!(header >> magic >> checksum >> size) || (header >> extra) ||
      magic != kind.magic ||
      size.find_first_not_of("0123456789") != std::string::npos ||
      size != std::to_string(content.size() - newline - 1))
    return std::nullopt;
  std::string payload = content.substr(newline + 1);
  if (Sha256::hex(payload) != checksum)
    return std::nullopt;
  return payload;
}

/// Whether the file starts with the kind's magic (eviction reads no more).
bool hasEntryMagic(const std::string &path, const EntryKind &kind) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return false;
  const std::string expected = std::string(kind.magic) + " ";
  char head[32] = {};
  ssize_t n = ::read(fd, head, expected.size());
  ::close(fd);
  return n == static_cast<ssize_t>(expected.size()) &&
         std::string(head, n) == expected;
}

/// The kind an entry's file name says it is, if any.
const EntryKind *findEntryKind(const std::string &name) {
  for (const EntryKind *kind : {&kCubinEntry, &kObjectEntry})
    if (isEntryName(name, *kind))
      return kind;
  return nullptr;
}

bool isAnyTemporaryName(const std::string &name) {
  return isTemporaryName(name, kCubinEntry) ||
         isTemporaryName(name, kObjectEntry);
}

std::string getDefaultDirectory() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/ssprop";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/ssprop";
  return "";
}

std::string joinOptions(const std::vector<std::string> &options) {
  std::string joined;
  for (const std::string &option : options)
    joined += option + "\n";
  return joined;
}

} // namespace

KernelCache::Options KernelCache::getOptionsFromEnvironment() {
  Options options;
  const char *dir = std::getenv("SSPROP_CACHE_DIR");
  options.directory = dir && *dir ? dir : getDefaultDirectory();
  if (const char *mb = std::getenv("SSPROP_CACHE_MAX_MB"); mb && *mb) {
    constexpr long long kMaxMiB = std::numeric_limits<int64_t>::max() >> 20;
    char *end = nullptr;
    errno = 0;
    long long value = std::strtoll(mb, &end, 10);
    if (*end || errno == ERANGE || value < 1 || value > kMaxMiB)
      std::cerr << "ssprop: ignoring SSPROP_CACHE_MAX_MB='" << mb
                << "' (expected a whole number of MiB from 1 to " << kMaxMiB
                << ")\n";
    else
      options.maxBytes = static_cast<int64_t>(value) << 20;
  }
  const char *log = std::getenv("SSPROP_LOG");
  options.log = log && std::string(log) == "1";
  return options;
}

KernelCache::KernelCache(Options options, Compiler compiler,
                         ObjectCompiler objectCompiler)
    : options(std::move(options)), compiler(std::move(compiler)),
      objectCompiler(std::move(objectCompiler)), diskEnabled(!this->options.directory.empty()) {
  if (!this->compiler)
    this->compiler = [](const KernelSource &kernel, Arch arch) {
      return compileWithNvrtc(kernel, arch).cubin;
    };
}

std::string KernelCache::getKey(const KernelSource &kernel, Arch arch) const {
  Sha256 hash;
  hash.update(versionLine() + "\n")
      .update("nvrtc " + std::to_string(getNvrtcVersion()) + "\n")
      .update(joinOptions(getNvrtcOptions(arch)))
      .update(std::string(getArchName(arch)) + "\n")
      .update(kernel.name + "\n")
      .update(kernel.code);
  return Sha256::toHex(hash.finish());
}

std::string KernelCache::getKey(const KernelSource &kernel,
                                const CpuTarget &target) const {
  Sha256 hash;
  hash.update(versionLine() + "\n")
      .update("llvm " + target.llvmVersion + "\n")
      .update("cpu " + target.cpu + "\n")
      .update("features " + target.features + "\n")
      .update(std::string("isa ") + getIsaName(target.isa) + "\n")
      .update("options " + target.options + "\n")
      .update(kernel.name + "\n")
      .update(kernel.code);
  return Sha256::toHex(hash.finish());
}

std::string KernelCache::getPath(const EntryKind &kind,
                                 const std::string &key) {
  std::string directory = getKernelsDirectory();
  return directory.empty() ? directory
                           : directory + "/" + key + kind.suffix;
}

std::string KernelCache::getEntryPath(const std::string &key) {
  return getPath(kCubinEntry, key);
}

std::string KernelCache::getObjectPath(const std::string &key) {
  return getPath(kObjectEntry, key);
}

std::string KernelCache::getKernelsDirectory() {
  std::lock_guard<std::mutex> lock(mutex);
  if (!diskEnabled || !kernelsDirectory.empty())
    return kernelsDirectory;
  std::string why;
  std::optional<std::string> root =
      choosePrivateDirectory(options.directory, &why);
  if (root) {
    why = makePrivateDirectory(*root + "/kernels");
    if (why.empty())
      return kernelsDirectory = *root + "/kernels";
  }
  disableDiskLocked(why);
  return kernelsDirectory;
}

bool KernelCache::isDiskEnabled() const {
  std::lock_guard<std::mutex> lock(mutex);
  return diskEnabled;
}

CacheStats KernelCache::getStats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return stats;
}

void KernelCache::resetStats() {
  std::lock_guard<std::mutex> lock(mutex);
  stats = CacheStats();
}

void KernelCache::clearMemory() { memory.clear(); }

std::shared_ptr<const std::string>
KernelCache::getCubin(const KernelSource &kernel, Arch arch) {
  return get(
      kCubinEntry, getKey(kernel, arch),
      [&] { return compiler(kernel, arch); },
      kernel.name + " for " + getArchName(arch));
}

std::shared_ptr<const std::string>
KernelCache::getObject(const KernelSource &kernel, const CpuTarget &target) {
  if (!objectCompiler)
    throw std::logic_error("ssprop: this kernel cache compiles no CPU kernels");
  return get(
      kObjectEntry, getKey(kernel, target),
      [&] { return objectCompiler(kernel, target); },
      kernel.name + " for " + target.cpu + " (" + getIsaName(target.isa) + ")");
}

std::shared_ptr<const std::string>
KernelCache::get(const EntryKind &kind, const std::string &key,
                 const std::function<std::string()> &compile,
                 const std::string &what) {
  bool hit = false;
  auto data = memory.get(
      key, [&] { return load(kind, key, compile, what); }, &hit);
  if (hit) {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.memoryHits;
  }
  return data;
}

std::shared_ptr<const std::string>
KernelCache::load(const EntryKind &kind, const std::string &key,
                  const std::function<std::string()> &compile,
                  const std::string &what) {
  if (isDiskEnabled())
    if (auto data = readEntry(kind, key)) {
      std::lock_guard<std::mutex> lock(mutex);
      ++stats.diskHits;
      return data;
    }
  auto start = std::chrono::steady_clock::now();
  auto data = std::make_shared<const std::string>(compile());
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.compiles;
    stats.compileMs += ms;
  }
  if (options.log)
    std::cerr << "ssprop: compiled " << what << " in " << ms << " ms (key "
              << key << ")\n";
  if (isDiskEnabled())
    writeEntry(kind, key, *data);
  return data;
}

std::shared_ptr<const std::string>
KernelCache::readEntry(const EntryKind &kind, const std::string &key) {
  const std::string path = getPath(kind, key);
  if (!isDiskEnabled())
    return nullptr;
  std::string why;
  std::optional<std::string> content =
      readTrustedFile(path, options.maxBytes, &why);
  if (!content) {
    // Missing is a miss; anything else in our private folder is not ours.
    if (!why.empty())
      disableDisk(why);
    return nullptr;
  }
  std::optional<std::string> payload = parseEntry(*content, kind);
  if (!payload) {
    if (options.log)
      std::cerr << "ssprop: discarding corrupted cache entry " << path << "\n";
    ::unlink(path.c_str());
    return nullptr;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
  return std::make_shared<const std::string>(std::move(*payload));
}

void KernelCache::writeEntry(const EntryKind &kind, const std::string &key,
                             const std::string &data) {
  const std::string path = getPath(kind, key);
  if (!isDiskEnabled())
    return;
  std::ostringstream entry;
  entry << kind.magic << " " << Sha256::hex(data) << " " << data.size() << "\n"
        << data;
  if (std::string failure = writeFileAtomically(path, entry.str(), 0600);
      !failure.empty())
    return disableDisk(failure);
  evictToBound(path);
}

void KernelCache::evictToBound(const std::string &keep) {
  struct Entry {
    std::string path;
    struct timespec used;
    int64_t size;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code error;
  const auto now = std::chrono::system_clock::now();
  for (const auto &file :
       fs::directory_iterator(getKernelsDirectory(), error)) {
    const std::string name = file.path().filename().string();
    const std::string path = file.path().string();
    struct stat info;
    if (!isOwnRegularFile(path) || ::lstat(path.c_str(), &info) != 0)
      continue; // not ours, or removed by another process meanwhile
    if (isAnyTemporaryName(name)) {
      auto modified = std::chrono::system_clock::from_time_t(info.st_mtime);
      if (now - modified > kStaleTemporary)
        ::unlink(path.c_str());
      continue;
    }
    const EntryKind *kind = findEntryKind(name);
    if (!kind || !hasEntryMagic(path, *kind))
      continue;
    entries.push_back({path, info.st_mtim, static_cast<int64_t>(info.st_size)});
    total += info.st_size;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return std::tie(a.used.tv_sec, a.used.tv_nsec) <
           std::tie(b.used.tv_sec, b.used.tv_nsec);
  });
  for (const Entry &entry : entries) {
    if (total <= options.maxBytes)
      break;
    if (entry.path == keep)
      continue;
    if (::unlink(entry.path.c_str()) == 0 && options.log)
      std::cerr << "ssprop: evicted " << entry.path << "\n";
    total -= entry.size;
  }
}

void KernelCache::disableDisk(const std::string &reason) {
  std::lock_guard<std::mutex> lock(mutex);
  disableDiskLocked(reason);
}

void KernelCache::disableDiskLocked(const std::string &reason) {
  if (!diskEnabled)
    return;
  diskEnabled = false;
  std::cerr << "ssprop: warning: " << reason
            << "; caching kernels in memory only\n";
}

} // namespace ssprop
