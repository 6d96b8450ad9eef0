//===- Jit.h - layer keys to launchable kernels ------------------*- C++
//-*-===//
//
// The JIT runtime: a layer key (shapes, geometry, dtype, k, select, grads,
// arch, tile) becomes the layer's kernel plan and cubins, compiled on first
// use through the compiler facade (Compiler.h) and NVRTC, cached in memory
// and on disk, and launched through the lazily loaded CUDA driver. The
// compiler is handed in, so the runtime builds and is tested without it.
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

/// The key of a layer: every field that changes its kernels or plan.
std::string getLayerKey(const ConvLayerSpec &spec,
                        const CodegenOptions &options);

class Jit {
public:
  /// Lowers and emits a layer (compileConvBackward in the product).
  using LayerCompiler = std::function<CompileResult(const ConvLayerSpec &,
                                                    const CodegenOptions &)>;

  /// `kernelCompiler` turns sources into cubins (NVRTC when null).
  Jit(KernelCache::Options cacheOptions, LayerCompiler layerCompiler,
      KernelCache::Compiler kernelCompiler = nullptr);

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

  KernelCache &getCache() { return cache; }
  /// Layer lookups answered from memory (the launch path's hot hit).
  int64_t getLayerHits() const;

private:
  CUfunction getFunction(const CompiledLayer &layer, int kernel);

  LayerCompiler layerCompiler;
  KernelCache cache;
  OnceMap<std::shared_ptr<const CompiledLayer>> layers;
  mutable std::mutex mutex; // guards functions and layerHits
  /// Loaded kernels per (CUDA context, kernel name).
  std::map<std::pair<CUcontext, std::string>, CUfunction> functions;
  int64_t layerHits = 0;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_JIT_H
