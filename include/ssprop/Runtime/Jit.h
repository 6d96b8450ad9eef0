//===- Jit.h - layer keys to launchable kernels ------------------*- C++
//-*-===//
//
// The JIT runtime: a layer key (shapes, geometry, dtype, k, select, grads,
// arch or CPU, tile) becomes the layer's kernel plan and compiled kernels,
// compiled on first use through the compiler facade (Compiler.h): cubins by
// NVRTC, launched through the lazily loaded CUDA driver; CPU objects by LLVM,
// linked into the process by ORC and called on the caller's threads. Both are
// cached in memory and on disk. The compilers are handed in, so the runtime
// builds and is tested without them.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_JIT_H
#define SSPROP_RUNTIME_JIT_H

#include "ssprop/Compiler/Compiler.h"
#include "ssprop/Runtime/KernelCache.h"
#include "ssprop/Runtime/OnceMap.h"

#include <cuda.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssprop {

/// The compiler rejected a layer; the message carries its diagnostics.
class CompileError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A layer's plan with one cubin per kernel of the plan.
struct CompiledLayer {
  KernelPlan plan;
  std::vector<std::shared_ptr<const std::string>> cubins;
  Arch arch;
};

/// A CPU layer's plan with the entry point of each kernel of the plan.
struct CompiledCpuLayer {
  KernelPlan plan;
  std::vector<CpuKernelEntry> entries;
};

/// The key of a layer: every field that changes its kernels or plan.
std::string getLayerKey(const ConvLayerSpec &spec,
                        const CodegenOptions &options);
/// The key of a CPU layer.
std::string getCpuLayerKey(const ConvLayerSpec &spec,
                           const CpuCodegenOptions &options);

/// What the JIT needs to make CPU kernels (the compiler facade in the
/// product; fakes in tests). Without a target there are none.
struct CpuToolchain {
  using LayerCompiler = std::function<CompileResult(const ConvLayerSpec &,
                                                    const CpuCodegenOptions &)>;
  /// The entry point of `kernel` in `object`; throws CompileError.
  using Loader = std::function<CpuKernelEntry(const std::string &object,
                                              const std::string &kernel)>;
  LayerCompiler compileLayer;
  KernelCache::ObjectCompiler compileKernel;
  Loader load;
  /// The host CPU the objects are compiled for.
  std::optional<CpuTarget> target;
};

/// The CPU toolchain of the compiler facade, on the host CPU (defined with
/// Jit::getGlobal, in the only file that links the compiler).
CpuToolchain getCompilerCpuToolchain();

/// Runs the tiles [0, tiles) of one CPU call, possibly on several threads:
/// `body(begin, end, worker)` for disjoint ranges, `worker` below the worker
/// count the caller allocated scratch for.
using ParallelFor = std::function<void(
    int64_t tiles,
    const std::function<void(int64_t begin, int64_t end, int worker)> &body)>;

class Jit {
public:
  /// Lowers and emits a layer (compileConvBackward in the product).
  using LayerCompiler = std::function<CompileResult(const ConvLayerSpec &,
                                                    const CodegenOptions &)>;

  /// `kernelCompiler` turns sources into cubins (NVRTC when null); `cpu`
  /// makes the CPU kernels.
  Jit(KernelCache::Options cacheOptions, LayerCompiler layerCompiler,
      KernelCache::Compiler kernelCompiler = nullptr, CpuToolchain cpu = {});

  /// The process-wide JIT on the real compiler, configured from the
  /// environment (defined apart, in the only file that links the compiler).
  static Jit &getGlobal();

  /// The layer's plan and cubins; compiled once per key even when called
  /// from several threads at once. Throws CompileError or NvrtcError.
  std::shared_ptr<const CompiledLayer> getLayer(const ConvLayerSpec &spec,
                                                const CodegenOptions &options);

  /// Runs launches [first, last) of `layer` (all by default) on `stream`:
  /// `buffers[i]` is the device address of plan buffer i, `seeds[i]` the
  /// value of seed i. Loads the cubins into the current CUDA context on first
  /// use. Throws DriverError (also when no GPU driver exists).
  void launch(const CompiledLayer &layer, const std::vector<void *> &buffers,
              const std::vector<uint64_t> &seeds, CUstream stream,
              size_t first = 0, size_t last = SIZE_MAX);

  /// The host CPU the JIT compiles CPU kernels for; std::nullopt where it
  /// makes none.
  const std::optional<CpuTarget> &getCpuTarget() const { return cpu.target; }

  /// A CPU layer's plan and entry points, compiled once per key like
  /// getLayer. Throws CompileError.
  std::shared_ptr<const CompiledCpuLayer>
  getCpuLayer(const ConvLayerSpec &spec, const CpuCodegenOptions &options);

  /// Runs calls [first, last) of a CPU layer: `buffers[i]` is the address of
  /// plan buffer i (of a Scratch buffer: room for every worker, worker w's
  /// part at w * numElements), `seeds[i]` seed i's value; `parallelFor`
  /// runs each call's tiles.
  static void runCpu(const CompiledCpuLayer &layer,
                     const std::vector<void *> &buffers,
                     const std::vector<uint64_t> &seeds,
                     const ParallelFor &parallelFor, size_t first = 0,
                     size_t last = SIZE_MAX);

  KernelCache &getCache() { return cache; }
  /// Layer lookups answered from memory (the launch path's hot hit).
  int64_t getLayerHits() const;

private:
  CUfunction getFunction(const CompiledLayer &layer, int kernel);

  CpuKernelEntry getCpuEntry(const KernelSource &kernel);

  LayerCompiler layerCompiler;
  CpuToolchain cpu;
  KernelCache cache;
  OnceMap<std::shared_ptr<const CompiledLayer>> layers;
  OnceMap<std::shared_ptr<const CompiledCpuLayer>> cpuLayers;
  /// Linked CPU kernels by name (the name ends in a hash of the kernel).
  OnceMap<CpuKernelEntry> cpuEntries;
  mutable std::mutex mutex; // guards functions and layerHits
  /// Loaded kernels per (CUDA context, kernel name).
  std::map<std::pair<CUcontext, std::string>, CUfunction> functions;
  int64_t layerHits = 0;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_JIT_H
