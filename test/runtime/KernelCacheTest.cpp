//===- KernelCacheTest.cpp - the kernel cache, its keys and files ---------===//
//
// Part of the runtime-only test: no compiler and no MLIR include path, so a
// runtime header that reached for MLIR would fail this build.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "ssprop/Runtime/AtomicFile.h"
#include "ssprop/Runtime/KernelCache.h"
#include "ssprop/Runtime/Sha256.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include <sys/stat.h>

using namespace ssprop;
using namespace ssprop::test;

namespace {

testing::Environment *const cleanup =
    testing::AddGlobalTestEnvironment(new TempRootCleanup);

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(Sha256::hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string million(1000000, 'a');
  EXPECT_EQ(Sha256::hex(million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/// Kernels depend on their source and arch only (plus versions): the same
/// source for another arch, or one byte more, is another entry.
TEST(KernelKey, ArchAndSourceChangeIt) {
  KernelCache cache(KernelCache::Options{});
  KernelSource kernel = makeKernel("a");
  std::string key = cache.getKey(kernel, Arch::sm90);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, cache.getKey(kernel, Arch::sm90));
  EXPECT_NE(key, cache.getKey(kernel, Arch::sm80));
  KernelSource edited = kernel;
  edited.code += " ";
  EXPECT_NE(key, cache.getKey(edited, Arch::sm90));
}

/// CPU objects depend on the kernel and on every field of the CPU target;
/// a cubin of the same kernel is another entry.
TEST(KernelKey, EveryCpuTargetFieldChangesIt) {
  KernelCache cache(KernelCache::Options{});
  KernelSource kernel = makeKernel("a");
  std::vector<std::function<void(CpuTarget &)>> edits = {
      [](CpuTarget &t) { t.cpu = "skylake-avx512"; },
      [](CpuTarget &t) { t.features += ",+avx512f"; },
      [](CpuTarget &t) { t.isa = Isa::avx512; },
      [](CpuTarget &t) { t.llvmVersion = "20.1.0"; },
      [](CpuTarget &t) { t.options = "O2"; },
  };
  std::set<std::string> keys = {cache.getKey(kernel, fakeCpu()),
                                cache.getKey(kernel, Arch::sm90)};
  EXPECT_EQ(keys.size(), 2u);
  for (auto &edit : edits) {
    CpuTarget target = fakeCpu();
    edit(target);
    EXPECT_TRUE(keys.insert(cache.getKey(kernel, target)).second);
  }
  KernelSource edited = kernel;
  edited.code += " ";
  EXPECT_TRUE(keys.insert(cache.getKey(edited, fakeCpu())).second);
}

//===----------------------------------------------------------------------===//
// Memory and disk cache
//===----------------------------------------------------------------------===//

TEST(KernelCache, CpuObjectsAreCachedOnDiskWithTheirChecksum) {
  fs::path dir = makeTempDir("objects");
  FakeObjectCompiler compiler;
  KernelSource kernel = makeKernel("cpu_kernel");
  {
    KernelCache cache(diskOptions(dir), nullptr, compiler.get());
    EXPECT_EQ(*cache.getObject(kernel, fakeCpu()),
              "object:cpu_kernel:znver3");
    EXPECT_EQ(*compiler.calls, 1);
  }
  KernelCache again(diskOptions(dir), nullptr, compiler.get());
  fs::path entry = again.getObjectPath(again.getKey(kernel, fakeCpu()));
  EXPECT_EQ(entry.extension(), ".o");
  std::ifstream in(entry);
  std::string magic, checksum;
  in >> magic >> checksum;
  EXPECT_EQ(magic, "ssprop-object-v1");
  EXPECT_EQ(checksum, Sha256::hex("object:cpu_kernel:znver3"));
  EXPECT_EQ(*again.getObject(kernel, fakeCpu()), "object:cpu_kernel:znver3");
  EXPECT_EQ(*compiler.calls, 1);
  EXPECT_EQ(again.getStats().diskHits, 1);
  // A damaged object is compiled again and rewritten.
  std::ofstream(entry, std::ios::trunc) << "ssprop-object-v1 00 3\nabc";
  KernelCache third(diskOptions(dir), nullptr, compiler.get());
  EXPECT_EQ(*third.getObject(kernel, fakeCpu()), "object:cpu_kernel:znver3");
  EXPECT_EQ(*compiler.calls, 2);
}

TEST(KernelCache, OneBoundCoversCubinsAndObjects) {
  fs::path dir = makeTempDir("mixed-bound");
  FakeCompiler cubins;          // entries of ~1100 bytes
  FakeObjectCompiler objects;
  KernelCache cache(diskOptions(dir, 2500), cubins.get(), objects.get());
  cache.getCubin(makeKernel("old_cubin"), Arch::sm90);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 40; ++i) // ~100-byte objects
    cache.getObject(makeKernel("object" + std::to_string(i)), fakeCpu());
  EXPECT_FALSE(fs::exists(
      cache.getEntryPath(cache.getKey(makeKernel("old_cubin"), Arch::sm90))));
  EXPECT_TRUE(fs::exists(cache.getObjectPath(
      cache.getKey(makeKernel("object39"), fakeCpu()))));
}

TEST(KernelCache, ObjectsNeedAnObjectCompiler) {
  KernelCache cache(KernelCache::Options{});
  EXPECT_THROW(cache.getObject(makeKernel("a"), fakeCpu()), std::logic_error);
}

TEST(KernelCache, ConcurrentRequestsCompileOnce) {
  FakeCompiler compiler;
  compiler.delay = std::chrono::milliseconds(50);
  KernelCache cache(KernelCache::Options{}, compiler.get());
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const std::string>> results(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back(
        [&, i] { results[i] = cache.getCubin(makeKernel("k"), Arch::sm90); });
  for (auto &thread : threads)
    thread.join();
  EXPECT_EQ(*compiler.calls, 1);
  for (auto &result : results)
    EXPECT_EQ(result, results[0]);
  CacheStats stats = cache.getStats();
  EXPECT_EQ(stats.compiles, 1);
  EXPECT_EQ(stats.memoryHits, 7);
}

TEST(KernelCache, SecondCacheOnTheSameDirectoryHitsDisk) {
  fs::path dir = makeTempDir("disk-hit");
  FakeCompiler compiler;
  KernelCache first(diskOptions(dir), compiler.get());
  auto cubin = first.getCubin(makeKernel("k"), Arch::sm90);
  KernelCache second(diskOptions(dir), compiler.get());
  EXPECT_EQ(*second.getCubin(makeKernel("k"), Arch::sm90), *cubin);
  EXPECT_EQ(*compiler.calls, 1);
  EXPECT_EQ(second.getStats().diskHits, 1);
  EXPECT_EQ(second.getStats().compiles, 0);
}

/// Damages the entry of `kernel` with `damage` and checks that a fresh cache
/// recompiles it and leaves a valid entry behind.
void expectRecompiledAfter(
    const std::string &name,
    const std::function<void(const fs::path &)> &damage) {
  fs::path dir = makeTempDir(name);
  FakeCompiler compiler;
  KernelSource kernel = makeKernel("k");
  KernelCache(diskOptions(dir), compiler.get()).getCubin(kernel, Arch::sm90);
  KernelCache probe(diskOptions(dir), compiler.get());
  fs::path entry = probe.getEntryPath(probe.getKey(kernel, Arch::sm90));
  ASSERT_TRUE(fs::exists(entry));
  damage(entry);
  KernelCache cache(diskOptions(dir), compiler.get());
  std::string cubin = *cache.getCubin(kernel, Arch::sm90);
  EXPECT_EQ(cache.getStats().compiles, 1) << name;
  EXPECT_EQ(cache.getStats().diskHits, 0) << name;
  EXPECT_EQ(*compiler.calls, 2);
  KernelCache after(diskOptions(dir), compiler.get());
  EXPECT_EQ(*after.getCubin(kernel, Arch::sm90), cubin);
  EXPECT_EQ(after.getStats().diskHits, 1) << "the rewritten entry is valid";
}

TEST(KernelCache, CorruptedEntryIsRecompiled) {
  expectRecompiledAfter("corrupted", [](const fs::path &entry) {
    std::fstream file(entry, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-10, std::ios::end);
    file.put('!');
  });
}

TEST(KernelCache, TruncatedEntryIsRecompiled) {
  expectRecompiledAfter("truncated", [](const fs::path &entry) {
    fs::resize_file(entry, fs::file_size(entry) / 2);
  });
}

TEST(KernelCache, EntryWithBadHeaderIsRecompiled) {
  expectRecompiledAfter("bad-header", [](const fs::path &entry) {
    std::ofstream(entry, std::ios::binary) << "not a cache entry";
  });
}

TEST(KernelCache, EvictionKeepsTheBoundAndTheRecentlyUsed) {
  fs::path dir = makeTempDir("eviction");
  FakeCompiler compiler; // entries of ~1100 bytes
  KernelCache cache(diskOptions(dir, 3500), compiler.get());
  auto age = [&](const std::string &name, int seconds) {
    fs::path entry =
        cache.getEntryPath(cache.getKey(makeKernel(name), Arch::sm90));
    fs::last_write_time(entry, fs::file_time_type::clock::now() -
                                   std::chrono::seconds(seconds));
  };
  for (const char *name : {"a", "b", "c"})
    cache.getCubin(makeKernel(name), Arch::sm90);
  age("a", 300);
  age("b", 200);
  age("c", 100);
  // Reading "a" from disk makes it the most recently used.
  KernelCache(diskOptions(dir, 3500), compiler.get())
      .getCubin(makeKernel("a"), Arch::sm90);
  cache.getCubin(makeKernel("d"), Arch::sm90); // over the bound: evict "b"
  auto present = [&](const std::string &name) {
    return fs::exists(
        cache.getEntryPath(cache.getKey(makeKernel(name), Arch::sm90)));
  };
  EXPECT_TRUE(present("a"));
  EXPECT_FALSE(present("b"));
  EXPECT_TRUE(present("c"));
  EXPECT_TRUE(present("d"));
  uintmax_t total = 0;
  for (const auto &file : fs::directory_iterator(dir / "kernels"))
    total += fs::file_size(file.path());
  EXPECT_LE(total, 3500u);
}

TEST(KernelCache, UnwritableDirectoryFallsBackToMemory) {
  fs::path dir = makeTempDir("unwritable");
  std::ofstream(dir / "file") << "a file, not a directory";
  FakeCompiler compiler;
  KernelCache cache(diskOptions(dir / "file" / "cache"), compiler.get());
  testing::internal::CaptureStderr();
  cache.getCubin(makeKernel("a"), Arch::sm90);
  cache.getCubin(makeKernel("b"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(cache.isDiskEnabled());
  EXPECT_EQ(cache.getStats().compiles, 2);
  cache.getCubin(makeKernel("a"), Arch::sm90);
  EXPECT_EQ(cache.getStats().memoryHits, 1);
  // One warning, naming the directory.
  EXPECT_EQ(std::regex_search(warnings, std::regex("warning: cannot create .*"
                                                   "file/cache/kernels")),
            true)
      << warnings;
  EXPECT_EQ(warnings.find("warning"), warnings.rfind("warning")) << warnings;
}

//===----------------------------------------------------------------------===//
// Atomic files
//===----------------------------------------------------------------------===//

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(AtomicFile, WritesTheWholeFileAndLeavesNoTemporary) {
  fs::path dir = makeTempDir("atomic");
  fs::path path = dir / "entry";
  ASSERT_EQ(writeFileAtomically(path.string(), "first", 0600), "");
  ASSERT_EQ(writeFileAtomically(path.string(), "second"), "");
  EXPECT_EQ(readFile(path), "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), {}), 1)
      << "a temporary file was left behind";
}

TEST(AtomicFile, FailureNamesThePathAndLeavesNothing) {
  fs::path dir = makeTempDir("atomic-missing");
  std::string failure =
      writeFileAtomically((dir / "no" / "such" / "dir" / "f").string(), "x");
  EXPECT_EQ(failure.rfind("cannot create " + (dir / "no").string(), 0), 0u)
      << failure;
  EXPECT_NE(failure.find("No such file or directory"), std::string::npos)
      << failure;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), {}), 0);
}

TEST(AtomicFile, ConcurrentWritersEachLeaveAWholeFile) {
  fs::path path = makeTempDir("atomic-race") / "entry";
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i)
    writers.emplace_back([&, i] {
      for (int j = 0; j < 20; ++j)
        EXPECT_EQ(writeFileAtomically(path.string(),
                                      std::string(4096, char('a' + i))),
                  "");
    });
  for (auto &writer : writers)
    writer.join();
  std::string data = readFile(path);
  ASSERT_EQ(data.size(), 4096u);
  EXPECT_EQ(data, std::string(4096, data[0])) << "writers interleaved";
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), {}), 1);
}

TEST(AtomicFile, NewFilesGetTheGivenPermissions) {
  fs::path path = makeTempDir("atomic-mode") / "entry";
  mode_t old = ::umask(0);
  std::string failure = writeFileAtomically(path.string(), "x", 0600);
  ::umask(old);
  ASSERT_EQ(failure, "");
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

} // namespace
