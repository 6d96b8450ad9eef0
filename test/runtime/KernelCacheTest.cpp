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
#include <unistd.h>

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
  EXPECT_EQ(std::regex_search(warnings,
                              std::regex("warning: cannot create .*file/cache: "
                                         "Not a directory")),
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

//===----------------------------------------------------------------------===//
// Trust: only what ssprop wrote
//===----------------------------------------------------------------------===//

/// Another user's uid to give files to (needs root, as CI runs); otherwise
/// the test is skipped with this reason.
constexpr uid_t kOtherUser = 65534; // nobody
#define SKIP_UNLESS_ROOT()                                                     \
  if (::geteuid() != 0)                                                        \
  GTEST_SKIP() << "needs root to create files owned by another user"

std::string entryOf(KernelCache &cache, const std::string &name) {
  return cache.getEntryPath(cache.getKey(makeKernel(name), Arch::sm90));
}

TEST(CacheTrust, NewDirectoriesArePrivate) {
  fs::path dir = makeTempDir("private") / "a" / "b";
  mode_t old = ::umask(0); // the most permissive umask
  KernelCache cache(diskOptions(dir), FakeCompiler().get());
  cache.getCubin(makeKernel("k"), Arch::sm90);
  ::umask(old);
  for (const fs::path &path : {dir, dir / "kernels"}) {
    struct stat info;
    ASSERT_EQ(::stat(path.c_str(), &info), 0) << path;
    EXPECT_EQ(info.st_mode & 0777, 0700u) << path;
  }
  struct stat info;
  ASSERT_EQ(::stat(entryOf(cache, "k").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(CacheTrust, ASharedFolderGetsAPrivateSubfolder) {
  fs::path shared = makeTempDir("shared");
  fs::permissions(shared, fs::perms::all | fs::perms::sticky_bit);
  KernelCache cache(diskOptions(shared), FakeCompiler().get());
  cache.getCubin(makeKernel("k"), Arch::sm90);
  EXPECT_TRUE(cache.isDiskEnabled());
  const fs::path own = shared / ("ssprop-" + std::to_string(::geteuid()));
  EXPECT_EQ(entryOf(cache, "k").rfind((own / "kernels").string(), 0), 0u)
      << entryOf(cache, "k");
  EXPECT_FALSE(fs::exists(shared / "kernels"));
}

TEST(CacheTrust, ASymlinkedKernelsFolderIsNotFollowed) {
  // Another user plants `kernels` -> the victim's folder in a cache folder.
  fs::path root = makeTempDir("planted-link");
  fs::path victim = makeTempDir("victim");
  std::ofstream(victim / "notes.txt") << "the victim's file";
  fs::create_directory_symlink(victim, root / "kernels");
  FakeCompiler compiler;
  KernelCache cache(diskOptions(root, 1), compiler.get()); // evict everything
  testing::internal::CaptureStderr();
  cache.getCubin(makeKernel("k"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(cache.isDiskEnabled());
  EXPECT_NE(warnings.find("kernels is a symbolic link"), std::string::npos)
      << warnings;
  EXPECT_EQ(std::distance(fs::directory_iterator(victim), {}), 1);
  EXPECT_TRUE(fs::exists(victim / "notes.txt"));
}

TEST(CacheTrust, EvictionRemovesOnlyEntriesSspropWrote) {
  fs::path root = makeTempDir("evict-own");
  FakeCompiler compiler; // entries of ~1100 bytes
  KernelCache cache(diskOptions(root, 2500), compiler.get());
  cache.getCubin(makeKernel("a"), Arch::sm90);
  const fs::path kernels = fs::path(entryOf(cache, "a")).parent_path();
  // A user's file, an old one with an entry's suffix, a fake entry name with
  // other content, and a stale file that merely looks temporary.
  const std::string key(64, 'e');
  for (const std::string name :
       {std::string("main.cpp"), std::string("old.cubin"), key + ".cubin",
        std::string("x.cubin.tmp.1.2")}) {
    std::ofstream(kernels / name) << std::string(2000, 'u');
    fs::last_write_time(kernels / name, fs::file_time_type::clock::now() -
                                            std::chrono::hours(48));
  }
  for (const char *name : {"b", "c", "d"})
    cache.getCubin(makeKernel(name), Arch::sm90);
  for (const std::string name :
       {std::string("main.cpp"), std::string("old.cubin"), key + ".cubin",
        std::string("x.cubin.tmp.1.2")})
    EXPECT_TRUE(fs::exists(kernels / name)) << name << " was deleted";
  EXPECT_TRUE(fs::exists(entryOf(cache, "d")));
  EXPECT_FALSE(fs::exists(entryOf(cache, "a"))) << "own entries are evicted";
}

TEST(CacheTrust, StaleTemporaryFilesOfTheWriterAreRemoved) {
  fs::path root = makeTempDir("stale-temporary");
  KernelCache cache(diskOptions(root), FakeCompiler().get());
  cache.getCubin(makeKernel("a"), Arch::sm90);
  const std::string stale = entryOf(cache, "a") + ".tmp.123.abc";
  std::ofstream(stale) << "left by a crashed writer";
  fs::last_write_time(stale,
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  cache.getCubin(makeKernel("b"), Arch::sm90);
  EXPECT_FALSE(fs::exists(stale));
}

TEST(CacheTrust, AnEntryOwnedByAnotherUserIsNeitherLoadedNorDeleted) {
  SKIP_UNLESS_ROOT();
  fs::path root = makeTempDir("planted-entry");
  FakeCompiler compiler;
  KernelCache first(diskOptions(root), compiler.get());
  first.getCubin(makeKernel("k"), Arch::sm90);
  const std::string entry = entryOf(first, "k");
  ASSERT_EQ(::chown(entry.c_str(), kOtherUser, kOtherUser), 0);
  KernelCache second(diskOptions(root), compiler.get());
  testing::internal::CaptureStderr();
  second.getCubin(makeKernel("k"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(second.getStats().diskHits, 0);
  EXPECT_EQ(second.getStats().compiles, 1);
  EXPECT_FALSE(second.isDiskEnabled());
  EXPECT_NE(warnings.find("is owned by another user (uid 65534)"),
            std::string::npos)
      << warnings;
  struct stat info;
  ASSERT_EQ(::stat(entry.c_str(), &info), 0) << "the planted file was deleted";
  EXPECT_EQ(info.st_uid, kOtherUser) << "the planted file was overwritten";
}

TEST(CacheTrust, ACacheFolderOfAnotherUserIsNotUsed) {
  SKIP_UNLESS_ROOT();
  fs::path root = makeTempDir("foreign-root");
  ASSERT_EQ(::chown(root.c_str(), kOtherUser, kOtherUser), 0);
  KernelCache cache(diskOptions(root), FakeCompiler().get());
  testing::internal::CaptureStderr();
  cache.getCubin(makeKernel("k"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(cache.isDiskEnabled());
  EXPECT_NE(warnings.find("is owned by another user"), std::string::npos)
      << warnings;
}

TEST(CacheTrust, AnEntryWritableByOthersIsNotLoaded) {
  fs::path root = makeTempDir("writable-entry");
  FakeCompiler compiler;
  KernelCache(diskOptions(root), compiler.get())
      .getCubin(makeKernel("k"), Arch::sm90);
  KernelCache probe(diskOptions(root), compiler.get());
  fs::permissions(entryOf(probe, "k"), fs::perms::others_write,
                  fs::perm_options::add);
  KernelCache cache(diskOptions(root), compiler.get());
  testing::internal::CaptureStderr();
  cache.getCubin(makeKernel("k"), Arch::sm90);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(cache.getStats().diskHits, 0);
  EXPECT_NE(warnings.find("is writable by other users"), std::string::npos)
      << warnings;
}

TEST(CacheTrust, ASymlinkOrAFifoInPlaceOfAnEntryIsRefusedWithoutWaiting) {
  fs::path root = makeTempDir("fifo-entry");
  FakeCompiler compiler;
  KernelCache probe(diskOptions(root), compiler.get());
  for (const std::string name : {"fifo", "link"}) {
    const std::string entry = entryOf(probe, name);
    if (name == "fifo")
      ASSERT_EQ(::mkfifo(entry.c_str(), 0600), 0);
    else
      fs::create_symlink("/etc/hostname", entry);
    KernelCache cache(diskOptions(root), compiler.get());
    testing::internal::CaptureStderr();
    cache.getCubin(makeKernel(name), Arch::sm90); // must not block
    std::string warnings = testing::internal::GetCapturedStderr();
    EXPECT_EQ(cache.getStats().compiles, 1) << name;
    EXPECT_NE(warnings.find(name == "fifo" ? "is not a regular file"
                                           : "is a symbolic link"),
              std::string::npos)
        << warnings;
  }
}

TEST(CacheTrust, AHugeOrWrongSizeInTheHeaderIsACorruptEntry) {
  for (const char *size : {"18446744073709551615", "9223372036854775808",
                           "50000000000", "-1", "1e3", "12abc"}) {
    expectRecompiledAfter(std::string("size-") + size,
                          [&](const fs::path &entry) {
                            std::ofstream(entry, std::ios::binary)
                                << "ssprop-cubin-v1 " << std::string(64, '0')
                                << " " << size << "\nxyz";
                          });
  }
}

TEST(CacheTrust, ALargeCacheBoundIsRejectedNotWrapped) {
  ::setenv("SSPROP_CACHE_MAX_MB", "17592186044416", 1); // 2^44
  testing::internal::CaptureStderr();
  KernelCache::Options options = KernelCache::getOptionsFromEnvironment();
  std::string warnings = testing::internal::GetCapturedStderr();
  ::unsetenv("SSPROP_CACHE_MAX_MB");
  EXPECT_EQ(options.maxBytes, int64_t(1) << 30) << "the default stays";
  EXPECT_NE(warnings.find("ignoring SSPROP_CACHE_MAX_MB='17592186044416' "
                          "(expected a whole number of MiB from 1 to "
                          "8796093022207)"),
            std::string::npos)
      << warnings;
}

} // namespace
