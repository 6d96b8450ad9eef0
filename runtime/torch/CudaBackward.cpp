//===- CudaBackward.cpp - ssprop::conv2d's backward on generated kernels --===//
//
// The CUDA backward, TensorRT-style: each layer's candidates (the generated
// kernels with each tile, gathered cuDNN, cuBLAS for 1x1) are timed on first
// use and the fastest is kept in a timing cache on disk (runtime/Tactics.h).
// Generated kernels come from the JIT runtime (compiled on first use, cached
// in memory and on disk), their buffers from PyTorch's caching allocator, and
// they run on the current CUDA stream. Element types or GPUs the generated
// kernels do not cover take the gathered path with a one-time warning.
//
//===----------------------------------------------------------------------===//

#include "CudaBackward.h"

#include "Internal.h"

#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Nvrtc.h"
#include "ssprop/Runtime/Tactics.h"

#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <future>
#include <utility>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace ssprop::torch_bridge {
namespace {

std::optional<ElementType> getElementType(at::ScalarType type) {
  switch (type) {
  case at::kFloat:
    return ElementType::f32;
  case at::kHalf:
    return ElementType::f16;
  case at::kBFloat16:
    return ElementType::bf16;
  default:
    return std::nullopt;
  }
}

at::ScalarType getScalarType(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return at::kFloat;
  case ElementType::f16:
    return at::kHalf;
  case ElementType::bf16:
    return at::kBFloat16;
  case ElementType::i32:
    return at::kInt;
  }
  return at::kFloat;
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

ConvLayerSpec makeSpec(const ConvBackwardArgs &args, ElementType dtype) {
  ConvLayerSpec spec;
  for (int i = 0; i < 4; ++i) {
    spec.inputShape[i] = args.input.size(i);
    spec.weightShape[i] = args.weight.size(i);
  }
  spec.stride = args.stride;
  spec.padding = args.padding;
  spec.dilation = args.dilation;
  spec.groups = args.groups;
  spec.dtype = dtype;
  spec.keep = args.keep;
  spec.select = args.select == "random" ? Select::random : Select::topk;
  spec.weightOnly = args.weightOnly;
  spec.needInputGrad = args.outputMask[0];
  return spec;
}

/// Device memory for every plan buffer: the arguments (contiguous NCHW), the
/// results and the temporaries, all from the caching allocator.
std::vector<at::Tensor> allocateBuffers(const KernelPlan &plan,
                                        const ConvBackwardArgs &args) {
  const at::Tensor arguments[3] = {args.gradOutput.contiguous(),
                                   args.input.contiguous(),
                                   args.weight.contiguous()};
  std::vector<at::Tensor> buffers;
  for (const BufferSpec &buffer : plan.buffers) {
    if (buffer.role == BufferSpec::Role::Argument) {
      buffers.push_back(arguments[buffer.index]);
      TORCH_INTERNAL_ASSERT(buffers.back().numel() == buffer.numElements);
      continue;
    }
    buffers.push_back(at::empty({buffer.numElements},
                                args.input.options().dtype(
                                    getScalarType(buffer.type))));
  }
  return buffers;
}

at::Tensor findResult(const KernelPlan &plan, std::vector<at::Tensor> &buffers,
                      int index) {
  for (size_t i = 0; i < plan.buffers.size(); ++i)
    if (plan.buffers[i].role == BufferSpec::Role::Result &&
        plan.buffers[i].index == index)
      return buffers[i];
  return at::Tensor();
}

using Tensor3 = std::tuple<at::Tensor, at::Tensor, at::Tensor>;
/// Where the random selection's seeds come from: PyTorch's generator in
/// training, a constant while tactics are timed.
using SeedSource = uint64_t (*)();

uint64_t timingSeed() { return 0; }

/// The layer on the generated kernels with `options`' tiles.
Tensor3 runGenerated(const ConvBackwardArgs &args, const ConvLayerSpec &spec,
                     const CodegenOptions &options, SeedSource seed) {
  Jit &jit = Jit::getGlobal();
  auto layer = jit.getLayer(spec, options);
  std::vector<at::Tensor> buffers = allocateBuffers(layer->plan, args);
  std::vector<void *> pointers;
  for (at::Tensor &buffer : buffers)
    pointers.push_back(buffer.data_ptr());
  std::vector<uint64_t> seeds;
  for (int i = 0; i < layer->plan.numSeeds; ++i)
    seeds.push_back(seed());
  jit.launch(*layer, pointers, seeds, at::cuda::getCurrentCUDAStream());
  at::Tensor gradWeight =
      findResult(layer->plan, buffers, 0).view(args.weight.sizes());
  at::Tensor gradBias = args.hasBias && args.outputMask[2]
                            ? findResult(layer->plan, buffers, 1)
                            : at::Tensor();
  at::Tensor gradInput =
      args.outputMask[0]
          ? findResult(layer->plan, buffers, 2).view(args.input.sizes())
          : at::Tensor();
  return {gradInput, args.outputMask[1] ? gradWeight : at::Tensor(), gradBias};
}

/// `options` with the tile of a `generated:<tile>` tactic; std::nullopt for
/// the other tactics.
std::optional<CodegenOptions> getGeneratedOptions(const std::string &tactic,
                                                  CodegenOptions options) {
  const std::string prefix = "generated:";
  if (tactic.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  std::optional<TileConfig> tile = parseTileConfig(tactic.substr(prefix.size()));
  if (!tile)
    return std::nullopt;
  options.dgradTile = options.wgradTile = *tile;
  return options;
}

/// Runs one of getTacticCandidates()' tactics.
Tensor3 runTactic(const std::string &tactic, const ConvBackwardArgs &args,
                  const ConvLayerSpec &spec, const CodegenOptions &options,
                  SeedSource seed) {
  if (tactic == "gathered-cudnn")
    return convBackwardGathered(args);
  if (tactic == "cublas")
    return convBackwardGemm(args);
  std::optional<CodegenOptions> generated = getGeneratedOptions(tactic, options);
  TORCH_INTERNAL_ASSERT(generated, "ssprop: unknown tactic ", tactic);
  return runGenerated(args, spec, *generated, seed);
}

/// Median milliseconds of `tactic` on the current stream, after a warm-up
/// run that also compiles and loads its kernels. PyTorch's CUDA generator is
/// restored afterwards, so timing does not change later random selections.
double timeTactic(const std::string &tactic, const ConvBackwardArgs &args,
                  const ConvLayerSpec &spec, const CodegenOptions &options) {
  constexpr int kRepetitions = 5;
  at::Generator generator = at::cuda::detail::getDefaultCUDAGenerator();
  at::Tensor generatorState = generator.get_state();
  auto run = [&] { runTactic(tactic, args, spec, options, timingSeed); };
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
  generator.set_state(generatorState);
  std::nth_element(ms.begin(), ms.begin() + kRepetitions / 2, ms.end());
  return ms[kRepetitions / 2];
}

/// Compiles every generated candidate's kernels at once, one thread per
/// tile, before any is timed: NVRTC dominates a layer's first use. Failures
/// are left for the timing run to report.
void compileGeneratedTactics(const std::vector<std::string> &candidates,
                             const ConvLayerSpec &spec,
                             const CodegenOptions &options) {
  std::vector<std::future<void>> compiles;
  for (const std::string &tactic : candidates)
    if (std::optional<CodegenOptions> generated =
            getGeneratedOptions(tactic, options))
      compiles.push_back(std::async(std::launch::async, [&spec, generated] {
        try {
          Jit::getGlobal().getLayer(spec, *generated);
        } catch (const std::exception &) {
        }
      }));
  for (std::future<void> &compile : compiles)
    compile.wait();
}

DeviceIdentity getDeviceIdentity(const cudaDeviceProp &device) {
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  return {device.name, device.major * 10 + device.minor, driver, runtime,
          getNvrtcVersion()};
}

/// One selector per GPU (timings hold for one device), persisting its
/// timing cache in the kernel cache's directory.
TacticSelector &getTacticSelector(int deviceIndex,
                                  const cudaDeviceProp &device) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<TacticSelector>> selectors;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<TacticSelector> &selector = selectors[deviceIndex];
  if (!selector)
    selector = std::make_unique<TacticSelector>(
        KernelCache::getOptionsFromEnvironment().directory,
        getDeviceIdentity(device));
  return *selector;
}

/// The timing cache's key: the layer with its kept count rounded up to a
/// multiple of 32, as timings within such a bucket are alike and a moving
/// keep must not re-time every k, and whether TF32 tiles competed.
std::string getTacticKey(const ConvLayerSpec &spec,
                         const CodegenOptions &options, bool allowTf32) {
  constexpr int kKeptGranularity = 32;
  const int channels = static_cast<int>(spec.weightShape[0]);
  const int bucket = getKeptBucket(static_cast<int>(getNumKept(spec)),
                                   channels, kKeptGranularity);
  ConvLayerSpec layer = spec;
  layer.keep = 1.0;
  return getLayerKey(layer, options) + "|k" + std::to_string(bucket) +
         (allowTf32 ? "|tf32" : "|exact-f32");
}

/// The tactic for the layer: SSPROP_TACTIC, the timing cache's choice, or
/// the fastest candidate timed now. Timing synchronises, which a stream
/// being captured into a CUDA graph forbids: there the generated kernels
/// with the default tile run, and nothing is cached.
std::string chooseTactic(const ConvBackwardArgs &args,
                         const ConvLayerSpec &spec,
                         const CodegenOptions &options,
                         const cudaDeviceProp &device) {
  const bool allowTf32 = at::globalContext().allowTF32CuDNN();
  std::vector<std::string> candidates = getTacticCandidates(spec, allowTf32);
  if (c10::cuda::currentStreamCaptureStatusMayInitCtx() !=
      c10::cuda::CaptureStatus::None)
    return getForcedTactic(candidates).value_or(candidates.front());
  const std::string key = getTacticKey(spec, options, allowTf32);
  bool compiled = false;
  return getTacticSelector(at::cuda::current_device(), device)
      .choose(key, candidates, [&](const std::string &tactic) {
        if (!std::exchange(compiled, true))
          compileGeneratedTactics(candidates, spec, options);
        return timeTactic(tactic, args, spec, options);
      });
}

} // namespace

std::vector<std::string> getConvTacticsCuda(const ConvBackwardArgs &args) {
  const cudaDeviceProp *device = at::cuda::getCurrentDeviceProperties();
  std::optional<ElementType> dtype = getElementType(args.input.scalar_type());
  if (!dtype || !getArch(*device))
    return {"gathered-cudnn"};
  return getTacticCandidates(makeSpec(args, *dtype),
                             at::globalContext().allowTF32CuDNN());
}

Tensor3 convBackwardCuda(const ConvBackwardArgs &args) {
  const cudaDeviceProp *device = at::cuda::getCurrentDeviceProperties();
  std::optional<ElementType> dtype = getElementType(args.input.scalar_type());
  std::optional<Arch> arch = getArch(*device);
  if (!dtype || !arch) {
    TORCH_WARN_ONCE("ssprop: no generated kernels for ",
                    args.input.scalar_type(), " on compute capability ",
                    device->major, ".", device->minor,
                    "; using the gathered cuDNN backward");
    return convBackwardGathered(args);
  }
  CodegenOptions options;
  options.arch = *arch;
  options.numSMs = device->multiProcessorCount;
  try {
    ConvLayerSpec spec = makeSpec(args, *dtype);
    std::string tactic = chooseTactic(args, spec, options, *device);
    return runTactic(tactic, args, spec, options, drawSeed);
  } catch (const c10::Error &) {
    throw;
  } catch (const std::exception &error) {
    TORCH_CHECK(false, error.what());
  }
}

RuntimeStats getRuntimeStats() {
  CacheStats stats = Jit::getGlobal().getCache().getStats();
  return {stats.compiles, stats.memoryHits, stats.diskHits, stats.compileMs};
}

void resetRuntimeStats() { Jit::getGlobal().getCache().resetStats(); }

} // namespace ssprop::torch_bridge
