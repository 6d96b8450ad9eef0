//===- KernelCache.cpp - compiled kernels in memory and on disk -----------===//
//
// Disk entries: `<dir>/kernels/<key>.cubin` and `<dir>/kernels/<key>.o`,
// each holding a header line `ssprop-cubin-v1 <sha256> <size>\n` (or
// `ssprop-object-v1 ...`) and then the cubin or CPU object, written
// atomically (AtomicFile.h): readers see either nothing or a whole entry. A
// reader that finds a bad header, size or checksum deletes the entry and
// recompiles. A hit refreshes the file's modification time, which eviction
// uses as the LRU order; one bound covers both kinds.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/KernelCache.h"

#include "ssprop/Runtime/AtomicFile.h"
#include "ssprop/Runtime/Nvrtc.h"
#include "ssprop/Runtime/Sha256.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ssprop {
namespace {

constexpr const char *kCubinMagic = "ssprop-cubin-v1";
constexpr const char *kObjectMagic = "ssprop-object-v1";
/// Temporary files older than this were left by a crashed writer.
constexpr auto kStaleTemporary = std::chrono::hours(1);

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
    char *end = nullptr;
    long long value = std::strtoll(mb, &end, 10);
    if (*end || value < 1)
      std::cerr << "ssprop: ignoring SSPROP_CACHE_MAX_MB='" << mb
                << "' (expected a whole number of MiB >= 1)\n";
    else
      options.maxBytes = value << 20;
  }
  const char *log = std::getenv("SSPROP_LOG");
  options.log = log && std::string(log) == "1";
  return options;
}

KernelCache::KernelCache(Options options, Compiler compiler,
                         ObjectCompiler objectCompiler)
    : options(std::move(options)), compiler(std::move(compiler)),
      objectCompiler(std::move(objectCompiler)),
      diskEnabled(!this->options.directory.empty()) {
  if (!this->compiler)
    this->compiler = [](const KernelSource &kernel, Arch arch) {
      return compileWithNvrtc(kernel, arch).cubin;
    };
}

std::string KernelCache::getKey(const KernelSource &kernel, Arch arch) const {
  Sha256 hash;
  hash.update("ssprop " SSPROP_VERSION "\n")
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
  hash.update("ssprop " SSPROP_VERSION "\n")
      .update("llvm " + target.llvmVersion + "\n")
      .update("cpu " + target.cpu + "\n")
      .update("features " + target.features + "\n")
      .update(std::string("isa ") + getIsaName(target.isa) + "\n")
      .update("options " + target.options + "\n")
      .update(kernel.name + "\n")
      .update(kernel.code);
  return Sha256::toHex(hash.finish());
}

namespace {
const char *const kCubinExtension = ".cubin";
const char *const kObjectExtension = ".o";
} // namespace

std::string KernelCache::getPath(const Kind &kind,
                                 const std::string &key) const {
  return options.directory + "/kernels/" + key + kind.extension;
}

std::string KernelCache::getEntryPath(const std::string &key) const {
  return getPath({kCubinMagic, kCubinExtension, "cubin"}, key);
}

std::string KernelCache::getObjectPath(const std::string &key) const {
  return getPath({kObjectMagic, kObjectExtension, "object"}, key);
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
      {kCubinMagic, kCubinExtension, "cubin"}, getKey(kernel, arch),
      [&] { return compiler(kernel, arch); },
      kernel.name + " for " + getArchName(arch));
}

std::shared_ptr<const std::string>
KernelCache::getObject(const KernelSource &kernel, const CpuTarget &target) {
  if (!objectCompiler)
    throw std::logic_error("ssprop: this kernel cache compiles no CPU kernels");
  return get(
      {kObjectMagic, kObjectExtension, "object"}, getKey(kernel, target),
      [&] { return objectCompiler(kernel, target); },
      kernel.name + " for " + target.cpu + " (" + getIsaName(target.isa) + ")");
}

std::shared_ptr<const std::string>
KernelCache::get(const Kind &kind, const std::string &key,
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
KernelCache::load(const Kind &kind, const std::string &key,
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
KernelCache::readEntry(const Kind &kind, const std::string &key) {
  std::string path = getPath(kind, key);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return nullptr;
  std::string magic, checksum;
  size_t size = 0;
  in >> magic >> checksum >> size;
  bool valid = in && in.get() == '\n' && magic == kind.magic;
  std::string data;
  if (valid) {
    data.resize(size);
    in.read(data.data(), static_cast<std::streamsize>(size));
    valid = in.gcount() == static_cast<std::streamsize>(size) &&
            in.peek() == std::char_traits<char>::eof() &&
            Sha256::hex(data) == checksum;
  }
  if (!valid) {
    if (options.log)
      std::cerr << "ssprop: discarding corrupted cache entry " << path << "\n";
    std::error_code ignored;
    fs::remove(path, ignored);
    return nullptr;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // most recently used
  return std::make_shared<const std::string>(std::move(data));
}

void KernelCache::writeEntry(const Kind &kind, const std::string &key,
                             const std::string &data) {
  std::string dir = options.directory + "/kernels";
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    return disableDisk("cannot create " + dir + ": " + error.message());
  std::ostringstream entry;
  entry << kind.magic << " " << Sha256::hex(data) << " " << data.size() << "\n"
        << data;
  std::string path = getPath(kind, key);
  if (std::string failure = writeFileAtomically(path, entry.str());
      !failure.empty())
    return disableDisk(failure);
  evictToBound(path);
}

void KernelCache::evictToBound(const std::string &keep) {
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    uintmax_t size;
  };
  std::vector<Entry> entries;
  uintmax_t total = 0;
  std::error_code error;
  auto now = fs::file_time_type::clock::now();
  for (const auto &file :
       fs::directory_iterator(options.directory + "/kernels", error)) {
    std::error_code statError;
    auto used = fs::last_write_time(file.path(), statError);
    uintmax_t size = fs::file_size(file.path(), statError);
    if (statError)
      continue; // removed by another process meanwhile
    const fs::path extension = file.path().extension();
    if (extension != kCubinExtension && extension != kObjectExtension) {
      if (now - used > kStaleTemporary)
        fs::remove(file.path(), statError);
      continue;
    }
    entries.push_back({file.path(), used, size});
    total += size;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (const Entry &entry : entries) {
    if (total <= static_cast<uintmax_t>(options.maxBytes))
      break;
    if (entry.path == keep)
      continue;
    std::error_code ignored;
    if (fs::remove(entry.path, ignored) && options.log)
      std::cerr << "ssprop: evicted " << entry.path.string() << "\n";
    total -= entry.size;
  }
}

void KernelCache::disableDisk(const std::string &reason) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!diskEnabled)
    return;
  diskEnabled = false;
  std::cerr << "ssprop: warning: " << reason
            << "; caching kernels in memory only\n";
}

} // namespace ssprop
