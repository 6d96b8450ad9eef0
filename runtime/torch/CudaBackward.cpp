//===- CudaBackward.cpp - ssprop::conv2d's backward on generated kernels --===//
//
// The CUDA backward: the layer's kernels come from the JIT runtime (compiled
// on first use, cached in memory and on disk), its buffers from PyTorch's
// caching allocator, and they run on the current CUDA stream. Element types
// or GPUs the generated kernels do not cover take the gathered ATen path
// (cuDNN on the gathered tensors) with a one-time warning.
//
//===----------------------------------------------------------------------===//

#include "CudaBackward.h"

#include "Internal.h"

#include "ssprop/Runtime/Jit.h"
#include "ssprop/Runtime/Nvrtc.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/util/Exception.h>

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

} // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor>
convBackwardCuda(const ConvBackwardArgs &args) {
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
    Jit &jit = Jit::getGlobal();
    auto layer = jit.getLayer(makeSpec(args, *dtype), options);
    std::vector<at::Tensor> buffers = allocateBuffers(layer->plan, args);
    std::vector<void *> pointers;
    for (at::Tensor &buffer : buffers)
      pointers.push_back(buffer.data_ptr());
    std::vector<uint64_t> seeds;
    for (int i = 0; i < layer->plan.numSeeds; ++i)
      seeds.push_back(drawSeed());
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
    return {gradInput, args.outputMask[1] ? gradWeight : at::Tensor(),
            gradBias};
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
