//===- TestSupport.h - temporary folders and fake compilers ------*- C++
//-*-===//
//
// What the runtime's tests share: a temporary root removed at exit, and
// stand-ins for the compiler and NVRTC that count their calls, so that the
// runtime is tested without MLIR and without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_RUNTIME_TESTSUPPORT_H
#define SSPROP_TEST_RUNTIME_TESTSUPPORT_H

#include "ssprop/Runtime/Jit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

namespace ssprop::test {

namespace fs = std::filesystem;

inline fs::path getTempRoot() {
  return fs::temp_directory_path() /
         ("ssprop-runtime-test-" + std::to_string(::getpid()));
}

/// A fresh directory under the test's temporary root (removed at exit by
/// TempRootCleanup, which each test binary registers once).
inline fs::path makeTempDir(const std::string &name) {
  fs::path dir = getTempRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct TempRootCleanup : testing::Environment {
  void TearDown() override { fs::remove_all(getTempRoot()); }
};

inline KernelSource makeKernel(const std::string &name) {
  return {name, "// kernel " + name + "\n"};
}

/// A stand-in for NVRTC that counts its calls and makes `size`-byte cubins.
struct FakeCompiler {
  std::shared_ptr<std::atomic<int>> calls =
      std::make_shared<std::atomic<int>>(0);
  size_t size = 1000;
  std::chrono::milliseconds delay{0};

  KernelCache::Compiler get() const {
    return [calls = calls, size = size, delay = delay](const KernelSource &k,
                                                       Arch) {
      ++*calls;
      std::this_thread::sleep_for(delay);
      std::string cubin = "cubin:" + k.name + ":";
      cubin.resize(size, 'x');
      return cubin;
    };
  }
};

/// A stand-in for the compiler facade: a two-kernel plan (one launch each)
/// named after the layer's k and tile, or the error `failWith` when set.
struct FakeLayerCompiler {
  std::shared_ptr<std::atomic<int>> calls =
      std::make_shared<std::atomic<int>>(0);
  std::string failWith;

  Jit::LayerCompiler get() const {
    return [calls = calls, failWith = failWith](const ConvLayerSpec &spec,
                                                const CodegenOptions &options) {
      ++*calls;
      CompileResult result;
      result.error = failWith;
      const std::string suffix = "_k" + std::to_string(spec.getNumKept()) +
                                 "_" + options.dgradTile.getName();
      for (const char *kind : {"wgrad", "dgrad"}) {
        int index = static_cast<int>(result.plan.kernels.size());
        result.plan.kernels.push_back(makeKernel(kind + suffix));
        result.plan.launches.push_back({index, {1, 1, 1}, {32, 1, 1}, {}});
      }
      return result;
    };
  }
};

/// A stand-in for LLVM: "objects" named after the kernel, counted.
struct FakeObjectCompiler {
  std::shared_ptr<std::atomic<int>> calls =
      std::make_shared<std::atomic<int>>(0);

  KernelCache::ObjectCompiler get() const {
    return [calls = calls](const KernelSource &k, const CpuTarget &target) {
      ++*calls;
      return "object:" + k.name + ":" + target.cpu;
    };
  }
};

inline CpuTarget fakeCpu() {
  return {"znver3", "+avx2,+fma", Isa::avx2, "19.1.7", "O3"};
}

inline KernelCache::Options diskOptions(const fs::path &dir,
                                        int64_t maxBytes = 1 << 30) {
  KernelCache::Options options;
  options.directory = dir.string();
  options.maxBytes = maxBytes;
  return options;
}

inline ConvLayerSpec baseLayer() {
  ConvLayerSpec spec;
  spec.inputShape = {8, 16, 12, 12};
  spec.weightShape = {64, 16, 3, 3};
  spec.padding = {1, 1};
  spec.keep = 0.5;
  return spec;
}

} // namespace ssprop::test

#endif // SSPROP_TEST_RUNTIME_TESTSUPPORT_H
