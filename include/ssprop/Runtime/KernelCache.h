//===- KernelCache.h - compiled kernels in memory and on disk ---*- C++ -*-===//
//
// Compiled kernels keyed by a SHA-256 of everything that determines them:
// cubins by the kernel source (which embeds the prelude and every
// specialisation constant), the NVRTC version and options, the arch and the
// ssprop version; CPU objects by the kernel module, the LLVM version, the CPU
// name and features, the instruction set, the compile options and the ssprop
// version. Entries live in memory and in one file per key on disk, under one
// size bound; see docs/runtime.md.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_KERNELCACHE_H
#define SSPROP_RUNTIME_KERNELCACHE_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/CpuCodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"
#include "ssprop/Runtime/OnceMap.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace ssprop {

struct CacheStats {
  int64_t compiles = 0;
  int64_t memoryHits = 0;
  int64_t diskHits = 0;
  double compileMs = 0;
};

class KernelCache {
public:
  /// A kind of entry: cubins or CPU objects (KernelCache.cpp).
  struct EntryKind;

  struct Options {
    /// Where entries go (see TrustedFiles.h: a private folder, or one made
    /// inside a shared folder); empty disables the disk cache.
    std::string directory;
    /// Bound on the disk cache's size; least recently used entries go first.
    int64_t maxBytes = int64_t(1) << 30;
    /// Print compile events to stderr.
    bool log = false;
  };

  /// SSPROP_CACHE_DIR (default `$XDG_CACHE_HOME/ssprop` or
  /// `~/.cache/ssprop`), SSPROP_CACHE_MAX_MB (default 1024), SSPROP_LOG=1.
  static Options getOptionsFromEnvironment();

  /// How a cubin is made on a miss (NVRTC by default; tests substitute).
  using Compiler = std::function<std::string(const KernelSource &, Arch)>;
  /// How a CPU object is made on a miss (the compiler facade's
  /// compileCpuKernel in the product); throws on failure.
  using ObjectCompiler =
      std::function<std::string(const KernelSource &, const CpuTarget &)>;

  explicit KernelCache(Options options, Compiler compiler = nullptr,
                       ObjectCompiler objectCompiler = nullptr);

  /// The cubin of `kernel` for `arch`, from memory, from disk, or compiled.
  /// Concurrent requests for one key compile it once. Throws NvrtcError.
  std::shared_ptr<const std::string> getCubin(const KernelSource &kernel,
                                              Arch arch);
  /// The object of a CPU kernel for `target`, likewise. Throws what the
  /// object compiler throws (std::logic_error without one).
  std::shared_ptr<const std::string> getObject(const KernelSource &kernel,
                                               const CpuTarget &target);

  /// The cache key of `kernel` for `arch`: 64 hex digits.
  std::string getKey(const KernelSource &kernel, Arch arch) const;
  /// The cache key of a CPU kernel for `target`.
  std::string getKey(const KernelSource &kernel, const CpuTarget &target) const;
  /// The file that holds (or would hold) the cubin of `key`; empty when the
  /// disk cache is off.
  std::string getEntryPath(const std::string &key);
  /// The file that holds (or would hold) the CPU object of `key`; likewise.
  std::string getObjectPath(const std::string &key);
  /// False once the directory proved unusable (one warning is printed).
  bool isDiskEnabled() const;

  CacheStats getStats() const;
  void resetStats();
  /// Forgets the in-memory entries (the disk cache stays).
  void clearMemory();

private:
  std::shared_ptr<const std::string>
  get(const EntryKind &kind, const std::string &key,
      const std::function<std::string()> &compile, const std::string &what);
  std::shared_ptr<const std::string>
  load(const EntryKind &kind, const std::string &key,
       const std::function<std::string()> &compile, const std::string &what);
  std::string getPath(const EntryKind &kind, const std::string &key);
  std::shared_ptr<const std::string> readEntry(const EntryKind &kind,
                                               const std::string &key);
  void writeEntry(const EntryKind &kind, const std::string &key,
                  const std::string &data);
  void evictToBound(const std::string &keep);
  /// `<directory>/kernels` (or its private fallback), created on first use;
  /// empty when the disk cache is off.
  std::string getKernelsDirectory();
  void disableDisk(const std::string &reason);
  void disableDiskLocked(const std::string &reason);

  Options options;
  Compiler compiler;
  ObjectCompiler objectCompiler;
  mutable std::mutex mutex; // guards stats, diskEnabled, kernelsDirectory
  OnceMap<std::shared_ptr<const std::string>> memory;
  CacheStats stats;
  bool diskEnabled;
  std::string kernelsDirectory;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_KERNELCACHE_H
