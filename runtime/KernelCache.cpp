//===- KernelCache.cpp - compiled kernels in memory and on disk -----------===//
//
// Disk entries: `<dir>/kernels/<key>.cubin`, each holding a header line
// `ssprop-cubin-v1 <sha256 of the cubin> <size>\n` and then the cubin, written
// atomically (AtomicFile.h): readers see either nothing or a whole entry. A
// reader that finds a bad header, size or checksum deletes the entry and
// recompiles. A hit
// refreshes the file's modification time, which eviction uses as the LRU
// order.
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
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ssprop {
namespace {

constexpr const char *kEntryMagic = "ssprop-cubin-v1";
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

KernelCache::KernelCache(Options options, Compiler compiler)
    : options(std::move(options)), compiler(std::move(compiler)),
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

std::string KernelCache::getEntryPath(const std::string &key) const {
  return options.directory + "/kernels/" + key + ".cubin";
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
  std::string key = getKey(kernel, arch);
  bool hit = false;
  auto cubin = memory.get(key, [&] { return load(kernel, arch, key); }, &hit);
  if (hit) {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.memoryHits;
  }
  return cubin;
}

std::shared_ptr<const std::string>
KernelCache::load(const KernelSource &kernel, Arch arch,
                  const std::string &key) {
  if (isDiskEnabled())
    if (auto cubin = readEntry(key)) {
      std::lock_guard<std::mutex> lock(mutex);
      ++stats.diskHits;
      return cubin;
    }
  auto start = std::chrono::steady_clock::now();
  auto cubin = std::make_shared<const std::string>(compiler(kernel, arch));
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.compiles;
    stats.compileMs += ms;
  }
  if (options.log)
    std::cerr << "ssprop: compiled " << kernel.name << " for "
              << getArchName(arch) << " in " << ms << " ms (key " << key
              << ")\n";
  if (isDiskEnabled())
    writeEntry(key, *cubin);
  return cubin;
}

std::shared_ptr<const std::string>
KernelCache::readEntry(const std::string &key) {
  std::string path = getEntryPath(key);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return nullptr;
  std::string magic, checksum;
  size_t size = 0;
  in >> magic >> checksum >> size;
  bool valid = in && in.get() == '\n' && magic == kEntryMagic;
  std::string cubin;
  if (valid) {
    cubin.resize(size);
    in.read(cubin.data(), static_cast<std::streamsize>(size));
    valid = in.gcount() == static_cast<std::streamsize>(size) &&
            in.peek() == std::char_traits<char>::eof() &&
            Sha256::hex(cubin) == checksum;
  }
  if (!valid) {
    if (options.log)
      std::cerr << "ssprop: discarding corrupted cache entry " << path << "\n";
    std::error_code ignored;
    fs::remove(path, ignored);
    return nullptr;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // most recently used
  return std::make_shared<const std::string>(std::move(cubin));
}

void KernelCache::writeEntry(const std::string &key, const std::string &cubin) {
  std::string dir = options.directory + "/kernels";
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    return disableDisk("cannot create " + dir + ": " + error.message());
  std::ostringstream entry;
  entry << kEntryMagic << " " << Sha256::hex(cubin) << " " << cubin.size()
        << "\n"
        << cubin;
  std::string path = getEntryPath(key);
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
    if (file.path().extension() != ".cubin") {
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
