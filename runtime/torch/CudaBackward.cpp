//===- CudaBackward.cpp - ssprop::conv2d's backward on generated kernels --===//
//
// The CUDA backward, TensorRT-style: the runtime resolves each layer once
// (runtime/LayerResolver.h) to one of its candidates (the generated kernels
// with each tile, gathered cuDNN, cuBLAS for 1x1), timing them on first use
// and keeping the fastest in a timing cache on disk. Generated kernels come
// from the JIT runtime, their buffers from PyTorch's caching allocator, and
// they run on the current CUDA stream. Element types or GPUs the generated
// kernels do not cover take the gathered path with a one-time warning.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Runtime/Driver.h"
#include "ssprop/Runtime/LayerResolver.h"
#include "ssprop/Runtime/Nvrtc.h"

#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/core/DeviceGuard.h>
#include <c10/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace ssprop::torch_bridge {
namespace {

/// The element types the generated kernels read.
bool hasGeneratedKernels(at::ScalarType type) {
  return type == at::kFloat || type == at::kHalf || type == at::kBFloat16;
}

/// sm_8x runs sm_80 cubins, sm_90 its own; anything else has no kernels yet.
std::optional<Arch> getArch(const cudaDeviceProp &device) {
  if (device.major == 8)
    return Arch::sm80;
  if (device.major == 9 && device.minor == 0)
    return Arch::sm90;
  return std::nullopt;
}

/// A seed for the random selection from PyTorch's CUDA generator, so that
/// torch.manual_seed reproduces it; advances the generator.
uint64_t drawSeed() {
  auto *generator = at::check_generator<at::CUDAGeneratorImpl>(
      at::cuda::detail::getDefaultCUDAGenerator());
  std::lock_guard<std::mutex> lock(generator->mutex_);
  auto [seed, offset] = generator->philox_engine_inputs(1);
  // splitmix64 of the pair: nearby offsets give unrelated seeds.
  uint64_t z = seed ^ (offset * 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The layer on its generated kernels, on the current stream.
Tensor3 runGenerated(const ConvBackwardArgs &args, const CompiledLayer &layer,
                     SeedSource seed, at::Tensor *kept = nullptr) {
  const CUstream stream = at::cuda::getCurrentCUDAStream();
  return runGeneratedPlan(
      args, layer.plan, seed, /*workers=*/1,
      [&](const std::vector<void *> &buffers,
          const std::vector<uint64_t> &seeds, size_t first, size_t last) {
        Jit::getGlobal().launch(layer, buffers, seeds, stream, first, last);
      },
      kept);
}

/// Runs a resolved layer (or a candidate being timed).
Tensor3 runResolved(const ResolvedLayer &layer, const ConvBackwardArgs &args,
                    SeedSource seed) {
  return runTactic(layer.tactic, args,
                   [&] { return runGenerated(args, *layer.kernels, seed); });
}

/// Median milliseconds of a candidate on the current stream, after a warm-up
/// run that also loads its kernels. PyTorch's CUDA generator is restored
/// afterwards (unless `restoreGenerator` is false: nothing drew from it), so
/// timing does not change later random selections.
double timeCandidate(const ResolvedLayer &candidate,
                     const ConvBackwardArgs &args,
                     bool restoreGenerator = true) {
  constexpr int kRepetitions = 5;
  at::Generator generator = at::cuda::detail::getDefaultCUDAGenerator();
  at::Tensor generatorState =
      restoreGenerator ? generator.get_state() : at::Tensor();
  auto run = [&] { runResolved(candidate, args, timingSeed); };
  run();
  auto stream = at::cuda::getCurrentCUDAStream();
  std::vector<float> ms;
  for (int i = 0; i < kRepetitions; ++i) {
    at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
    start.record(stream);
    run();
    stop.record(stream);
    stop.synchronize();
    ms.push_back(start.elapsed_time(stop));
  }
  if (restoreGenerator)
    generator.set_state(generatorState);
  std::nth_element(ms.begin(), ms.begin() + kRepetitions / 2, ms.end());
  return ms[kRepetitions / 2];
}

std::string verify(const ResolvedLayer &candidate,
                   const ConvBackwardArgs &args) {
  return verifyCandidate(
      candidate.tactic, args,
      [&](at::Tensor *kept) {
        return runGenerated(args, *candidate.kernels, timingSeed, kept);
      },
      candidate.tactic.tile.kind == TileKind::tensorCore &&
          args.spec.dtype == ElementType::f32);
}

/// Runs a resolved layer; a generated kernel that fails to launch gives way
/// to the gathered path with one warning, unless the failure lost the CUDA
/// context (a sticky error: every later call would fail too).
Tensor3 runOrFallBack(const ResolvedLayer &layer, const ConvBackwardArgs &args) {
  try {
    return runResolved(layer, args, drawSeed);
  } catch (const DriverError &error) {
    if (layer.tactic.kind != TacticKind::generated)
      throw;
    const cudaError_t status = cudaDeviceSynchronize();
    TORCH_CHECK(status == cudaSuccess, "ssprop: ", layer.tactic.getName(),
                " failed (", error.what(), ") and the CUDA context is lost: ",
                cudaGetErrorString(status));
    TORCH_WARN_ONCE("ssprop: ", layer.tactic.getName(), " failed (",
                    error.what(), "); running the gathered path instead");
    return convBackwardGathered(args);
  }
}

LayerResolver::Probe getProbe(const ConvBackwardArgs &args) {
  return makeProbe(args, timeCandidate, verify);
}

DeviceIdentity getDeviceIdentity(const cudaDeviceProp &device) {
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  return {device.name, device.major * 10 + device.minor, driver, runtime,
          getNvrtcVersion()};
}

/// One resolver per GPU (timings hold for one device), with its timing
/// cache in the kernel cache's directory.
struct DeviceResolver {
  TacticSelector selector;
  LayerResolver resolver;

  explicit DeviceResolver(const cudaDeviceProp &device)
      : selector(KernelCache::getOptionsFromEnvironment().directory,
                 getDeviceIdentity(device)),
        resolver(Jit::getGlobal(), selector) {}
};

struct DeviceResolvers {
  std::mutex mutex;
  std::map<int, std::unique_ptr<DeviceResolver>> byDevice;
};

DeviceResolvers &getDeviceResolvers() {
  static DeviceResolvers resolvers;
  return resolvers;
}

LayerResolver &getResolver(int deviceIndex, const cudaDeviceProp &device) {
  DeviceResolvers &resolvers = getDeviceResolvers();
  std::lock_guard<std::mutex> lock(resolvers.mutex);
  std::unique_ptr<DeviceResolver> &entry = resolvers.byDevice[deviceIndex];
  if (!entry)
    entry = std::make_unique<DeviceResolver>(device);
  return entry->resolver;
}

LayerTarget getTarget(const cudaDeviceProp &device, Arch arch) {
  LayerTarget target;
  target.options.arch = arch;
  target.options.numSMs = device.multiProcessorCount;
  target.allowTf32 = at::globalContext().allowTF32CuDNN();
  return target;
}

} // namespace

std::vector<Tactic> getConvTacticsCuda(const ConvBackwardArgs &args) {
  const cudaDeviceProp *device = at::cuda::getCurrentDeviceProperties();
  if (!hasGeneratedKernels(args.input.scalar_type()) || !getArch(*device))
    return {Tactic::gathered()};
  return getTacticCandidates(args.spec, at::globalContext().allowTF32CuDNN());
}

Tensor3 convBackwardCuda(const ConvBackwardArgs &args) {
  const cudaDeviceProp *device = at::cuda::getCurrentDeviceProperties();
  std::optional<Arch> arch = getArch(*device);
  if (!hasGeneratedKernels(args.input.scalar_type()) || !arch) {
    TORCH_WARN_ONCE("ssprop: no generated kernels for ",
                    args.input.scalar_type(), " on compute capability ",
                    device->major, ".", device->minor,
                    "; using the gathered cuDNN backward");
    return convBackwardGathered(args);
  }
  try {
    // Timing synchronises, which a stream being captured into a CUDA graph
    // forbids: there the resolver times nothing.
    const bool mayTime = c10::cuda::currentStreamCaptureStatusMayInitCtx() ==
                         c10::cuda::CaptureStatus::None;
    std::shared_ptr<const ResolvedLayer> layer =
        getResolver(at::cuda::current_device(), *device)
            .resolve(args.spec, getTarget(*device, *arch), getProbe(args),
                     mayTime, getJitMode());
    return runOrFallBack(*layer, args);
  } catch (const c10::Error &) {
    throw;
  } catch (const std::exception &error) {
    TORCH_CHECK(false, error.what());
  }
}

PreparedLayer prepareConvCuda(const ConvBackwardArgs &args) {
  const cudaDeviceProp *device = at::cuda::getCurrentDeviceProperties();
  std::optional<Arch> arch = getArch(*device);
  if (!hasGeneratedKernels(args.input.scalar_type()) || !arch)
    return {"", Tactic::gathered(), {}, std::nullopt};
  const LayerTarget target = getTarget(*device, *arch);
  LayerResolver &resolver = getResolver(at::cuda::current_device(), *device);
  return describeResolved(
      resolver, args.spec, target,
      *resolver.resolve(args.spec, target, getProbe(args), /*mayTime=*/true,
                        JitMode::blocking));
}

void forEachResolver(const std::function<void(LayerResolver &)> &visit) {
  visit(getCpuResolver());
  DeviceResolvers &resolvers = getDeviceResolvers();
  std::lock_guard<std::mutex> lock(resolvers.mutex);
  for (auto &[index, device] : resolvers.byDevice)
    visit(device->resolver);
}

RuntimeStats getRuntimeStats() {
  CacheStats cache = Jit::getGlobal().getCache().getStats();
  RuntimeStats stats{cache.compiles, cache.memoryHits, cache.diskHits,
                     cache.compileMs};
  forEachResolver([&](LayerResolver &resolver) {
    LayerResolver::Stats layers = resolver.getStats();
    stats.timings += layers.timed;
    stats.provisional += layers.provisional;
    stats.rejected += layers.rejected;
  });
  return stats;
}

void resetRuntimeStats() {
  Jit::getGlobal().getCache().resetStats();
  forEachResolver([](LayerResolver &resolver) { resolver.resetStats(); });
}

} // namespace ssprop::torch_bridge
