//===- CpuBackward.cpp - ssprop::conv2d's backward on the CPU -------------===//
//
// The CPU backward, TensorRT-style like the CUDA one: the runtime resolves
// each layer once (runtime/LayerResolver.h) to one of its candidates (the
// generated CPU kernels with each register tile, gathered ATen, ATen's matrix
// products for plain-GEMM layers), timing them on first use and keeping the
// fastest in a timing cache keyed by the CPU model, its LLVM target and the
// thread count. The generated kernels' tiles run with at::parallel_for, so
// torch.set_num_threads governs them as it governs ATen; their buffers come
// from ATen's allocator.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Runtime/LayerResolver.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>

namespace ssprop::torch_bridge {
namespace {

/// The instruction set of the generated kernels on this CPU (std::nullopt:
/// none). SSPROP_CPU_ISA=avx2 runs the AVX2 kernels on an AVX-512 CPU.
std::optional<Isa> getIsa() {
  static const std::optional<Isa> isa = []() -> std::optional<Isa> {
    const std::optional<CpuTarget> &target = Jit::getGlobal().getCpuTarget();
    if (!target)
      return std::nullopt;
    const char *wanted = std::getenv("SSPROP_CPU_ISA");
    if (!wanted || !*wanted)
      return target->isa;
    std::optional<Isa> isa = parseIsa(wanted);
    if (isa && (*isa == Isa::avx2 || target->isa == Isa::avx512))
      return isa;
    TORCH_WARN("ssprop: ignoring SSPROP_CPU_ISA=", wanted,
               " (expected avx2 or avx512, at most what this CPU has: ",
               getIsaName(target->isa), ")");
    return target->isa;
  }();
  return isa;
}

/// The CPU's model as the system names it (timings hold for one model).
std::string getCpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

LayerTarget getTarget() {
  LayerTarget target;
  target.device = Device::cpu;
  target.cpu.isa = getIsa().value_or(Isa::avx2);
  target.cpu.threads = at::get_num_threads();
  return target;
}

/// A seed for the random selection from PyTorch's CPU generator, so that
/// torch.manual_seed reproduces it; advances the generator.
uint64_t drawSeed() {
  auto *generator = at::check_generator<at::CPUGeneratorImpl>(
      at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(generator->mutex_);
  return generator->random64();
}

/// The layer on its generated kernels, each call's tiles on ATen's threads.
Tensor3 runGenerated(const ConvBackwardArgs &args,
                     const CompiledCpuLayer &layer, SeedSource seed,
                     at::Tensor *kept = nullptr) {
  const ParallelFor parallelFor = [](int64_t tiles, const auto &body) {
    at::parallel_for(0, tiles, 1, [&](int64_t begin, int64_t end) {
      body(begin, end, at::get_thread_num());
    });
  };
  return runGeneratedPlan(
      args, layer.plan, seed, at::get_num_threads(),
      [&](const std::vector<void *> &buffers,
          const std::vector<uint64_t> &seeds, size_t first, size_t last) {
        Jit::runCpu(layer, buffers, seeds, parallelFor, first, last);
      },
      kept);
}

/// Runs a resolved layer (or a candidate being timed).
Tensor3 runResolved(const ResolvedLayer &layer, const ConvBackwardArgs &args,
                    SeedSource seed) {
  return runTactic(layer.tactic, args,
                   [&] { return runGenerated(args, *layer.cpuKernels, seed); });
}

/// The fastest of three runs of a candidate in milliseconds of wall time,
/// after a warm-up run (preemption only ever adds time). PyTorch's CPU
/// generator is restored afterwards (unless `restoreGenerator` is false:
/// nothing drew from it), so timing does not change later random
/// selections.
double timeCandidate(const ResolvedLayer &candidate,
                     const ConvBackwardArgs &args,
                     bool restoreGenerator = true) {
  constexpr int kRepetitions = 3;
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  at::Tensor generatorState =
      restoreGenerator ? generator.get_state() : at::Tensor();
  auto run = [&] { runResolved(candidate, args, timingSeed); };
  run();
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kRepetitions; ++i) {
    auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count());
  }
  if (restoreGenerator)
    generator.set_state(generatorState);
  return best;
}

std::string verify(const ResolvedLayer &candidate,
                   const ConvBackwardArgs &args) {
  return verifyCandidate(
      candidate.tactic, args,
      [&](at::Tensor *kept) {
        return runGenerated(args, *candidate.cpuKernels, timingSeed, kept);
      },
      /*tf32=*/false);
}

/// The element types the generated kernels read (the spec says f32 for
/// f64 layers), on a CPU that has them.
std::optional<Isa> getGeneratedIsa(const ConvBackwardArgs &args) {
  const at::ScalarType type = args.input.scalar_type();
  if (type != at::kFloat && type != at::kBFloat16)
    return std::nullopt;
  return getIsa();
}

LayerResolver::Probe getProbe(const ConvBackwardArgs &args) {
  return makeProbe(args, timeCandidate, verify);
}

} // namespace

/// One resolver for the CPU, with its timing cache in the kernel cache's
/// directory.
LayerResolver &getCpuResolver() {
  static TacticSelector selector(
      KernelCache::getOptionsFromEnvironment().directory,
      CpuIdentity{getCpuModel(),
                  Jit::getGlobal().getCpuTarget().value_or(CpuTarget())});
  static LayerResolver resolver(Jit::getGlobal(), selector);
  return resolver;
}

std::vector<Tactic> getConvTacticsCpu(const ConvBackwardArgs &args) {
  return getCpuTacticCandidates(args.spec, getGeneratedIsa(args));
}

PreparedLayer prepareConvCpu(const ConvBackwardArgs &args) {
  if (!getGeneratedIsa(args)) // the host backward: nothing to compile or time
    return {"", Tactic::gathered(Device::cpu), {}, std::nullopt};
  const LayerTarget target = getTarget();
  LayerResolver &resolver = getCpuResolver();
  return describeResolved(
      resolver, args.spec, target,
      *resolver.resolve(args.spec, target, getProbe(args), /*mayTime=*/true,
                        JitMode::blocking));
}

Tensor3 convBackwardCpu(const ConvBackwardArgs &args) {
  if (!getGeneratedIsa(args))
    return convBackwardHost(args);
  try {
    std::shared_ptr<const ResolvedLayer> layer = getCpuResolver().resolve(
        args.spec, getTarget(), getProbe(args), /*mayTime=*/true, getJitMode());
    return runResolved(*layer, args, drawSeed);
  } catch (const c10::Error &) {
    throw;
  } catch (const std::exception &error) {
    TORCH_CHECK(false, error.what());
  }
}

} // namespace ssprop::torch_bridge
