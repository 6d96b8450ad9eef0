//===- Internal.h - shared pieces of the LibTorch bridge --------*- C++ -*-===//
//
// Private to runtime/torch: argument validation, channel selection (with the
// optional synchronisation of data-parallel processes), the gathered ATen
// backward, the CUDA and CPU backwards on generated kernels, and the
// statistics.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TORCH_INTERNAL_H
#define SSPROP_RUNTIME_TORCH_INTERNAL_H

#include "ssprop/Core/KernelPlan.h"
#include "ssprop/Core/LayerSpec.h"
#include "ssprop/Core/NetworkIR.h"
#include "ssprop/Core/Tactic.h"
#include "ssprop/Runtime/LayerResolver.h"

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace ssprop::torch_bridge {

using Tensor3 = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

/// Runs `f`, turning Core's std::invalid_argument into a c10::ValueError
/// (Python: ValueError) whose message `where` prefixes.
template <typename F> auto checked(const char *where, F f) {
  try {
    return f();
  } catch (const std::invalid_argument &e) {
    TORCH_CHECK_VALUE(false, where, ": ", e.what());
  }
}

/// Validates keep, in (0, 1]; `where` prefixes the message.
void checkKeep(const char *where, double keep);

/// Validates keep and select and returns the selection rule; `where`
/// prefixes the messages ("ssprop::conv2d").
Select checkKeepAndSelect(const char *where, double keep,
                          const std::string &select);

/// Expands a 1- or 2-element int list to 2 elements after checking it.
std::array<int64_t, 2> expandPair(const char *where, const char *name,
                                  at::IntArrayRef values, int64_t minValue);

/// Every check of ssprop::conv2d's arguments (works on symbolic shapes).
void checkConv2dArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias,
                     const std::array<int64_t, 2> &stride,
                     const std::array<int64_t, 2> &padding,
                     const std::array<int64_t, 2> &dilation, int64_t groups);

/// The output shape of a checked convolution (symbolic shapes too), as
/// ATen's convolution gives it.
std::vector<c10::SymInt>
convOutputSizes(const at::Tensor &input, const at::Tensor &weight,
                const std::array<int64_t, 2> &stride,
                const std::array<int64_t, 2> &padding,
                const std::array<int64_t, 2> &dilation);

/// Every check of ssprop::linear's arguments (works on symbolic shapes).
void checkLinearArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias);

//===----------------------------------------------------------------------===//
// Selection
//===----------------------------------------------------------------------===//

/// How a layer's kept channels are chosen: the rule, k, and the process
/// group (by name, as torch.distributed registers it) whose processes must
/// all keep the same channels, if any.
struct Selection {
  Select select = Select::topk;
  int64_t numKept = 1;
  std::optional<std::string> syncGroup;
};

/// The kept channels of a gradient whose channels are along `channelDim`:
/// the k largest scores (mean |dy| over the other dimensions; over the whole
/// group's batch when synchronised), NaN above +inf and ties to the lower
/// channel, or the first k of a random permutation (rank 0's when
/// synchronised). Ascending int64 indices on dy's device.
/// `meanScores`: score by the mean (a convolution) or the sum (a linear
/// layer) of |dy|.
at::Tensor selectChannels(const at::Tensor &dy, int64_t channelDim,
                          const Selection &selection, bool meanScores);

/// The k largest of `scores` by the documented order (NaN above +inf, ties
/// to the lower channel), ascending.
at::Tensor selectTopK(const at::Tensor &scores, int64_t k);

/// Sums `tensor` over the process group `groupName` (all-reduce) in place.
void allReduceSum(at::Tensor &tensor, const std::string &groupName);

/// Rank 0's `tensor`, on every process of the group `groupName`.
at::Tensor broadcastFromRankZero(const at::Tensor &tensor,
                                 const std::string &groupName);

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// One backward call of a convolution, validated.
struct ConvBackwardArgs {
  at::Tensor gradOutput, input, weight;
  /// Shapes, geometry, keep, select, weight-only and whether the input
  /// gradient is wanted; dtype only where ElementType has the input's type.
  ConvLayerSpec spec;
  bool hasBias = false;
  /// Which of grad_input, grad_weight, grad_bias are wanted.
  std::array<bool, 3> outputMask{true, true, true};
  std::optional<std::string> syncGroup;

  Selection getSelection() const {
    return {spec.select, spec.getNumKept(), syncGroup};
  }
};

/// The gathered ATen backward of a convolution (any device).
Tensor3 convBackwardGathered(const ConvBackwardArgs &args);

/// The backward of a plain-GEMM convolution as matrix products on the kept
/// channels (at::matmul: cuBLAS on CUDA); the `cublas` and `gemm-aten`
/// tactics.
Tensor3 convBackwardGemm(const ConvBackwardArgs &args);

/// The tactics that may run the layer on grad_output's device: CUDA's or the
/// CPU's candidates (runtime/Tactics.h), or elsewhere the gathered path and,
/// for plain-GEMM layers, the matrix products.
std::vector<Tactic> getConvTactics(const ConvBackwardArgs &args);

/// The backward without generated kernels: the forced tactic (`gathered-aten`,
/// or `gemm-aten` for plain-GEMM layers; another of the CPU's is an error,
/// those of other devices are ignored), else the gathered path.
Tensor3 convBackwardHost(const ConvBackwardArgs &args);

/// grad_input, grad_weight, grad_bias of a CUDA convolution on its resolved
/// tactic (undefined tensors where outputMask is false).
Tensor3 convBackwardCuda(const ConvBackwardArgs &args);

/// The CUDA tactics of the layer (getConvTactics on CUDA).
std::vector<Tactic> getConvTacticsCuda(const ConvBackwardArgs &args);

/// The same on the CPU: the resolved tactic (generated CPU kernels, gathered
/// ATen, ATen's matrix products), timed on first use.
Tensor3 convBackwardCpu(const ConvBackwardArgs &args);
std::vector<Tactic> getConvTacticsCpu(const ConvBackwardArgs &args);

//===----------------------------------------------------------------------===//
// Generated kernels (both devices)
//===----------------------------------------------------------------------===//

at::ScalarType getScalarType(ElementType type);
/// The ElementType of a tensor's scalar type; std::nullopt for the types the
/// kernels and the IR lack (f64, ...).
std::optional<ElementType> getElementType(at::ScalarType type);

/// Where the random selection's seeds come from: the framework's generator
/// in training, a constant (timingSeed) while tactics are timed.
using SeedSource = uint64_t (*)();
uint64_t timingSeed();

/// Runs calls [first, last) of a plan over `buffers` (the address of each
/// plan buffer) with `seeds`.
using PlanRunner =
    std::function<void(const std::vector<void *> &buffers,
                       const std::vector<uint64_t> &seeds, size_t first,
                       size_t last)>;

/// The gradients of a layer computed by `plan`: its buffers from ATen's
/// allocator on the arguments' device (`workers` copies of each scratch
/// buffer), its seeds from `seed`, the calls run by `run`. With a process
/// group the calls stop after scoring, for the scores to be summed over the
/// group. `kept`, if given, receives the channels the plan kept (ascending).
Tensor3 runGeneratedPlan(const ConvBackwardArgs &args, const KernelPlan &plan,
                         SeedSource seed, int workers, const PlanRunner &run,
                         at::Tensor *kept = nullptr);

//===----------------------------------------------------------------------===//
// Verification of generated candidates
//===----------------------------------------------------------------------===//

/// The largest error a generated candidate's gradient may have, relative to
/// the reference gradient's largest magnitude: 1e-3 for f32 (1e-2 on TF32
/// tiles), 1e-2 for f16, 2e-2 for bf16.
double getVerifyTolerance(ElementType type, bool tf32);

/// Empty when `result`, a generated candidate's gradients with its kept
/// channels `kept`, matches the reference (autograd's gradients of dy with
/// the other channels zeroed, in f32 or f64) within `tolerance`, and a top-k
/// candidate kept k top-scored channels; else what differs.
std::string compareWithReference(const ConvBackwardArgs &args,
                                 const Tensor3 &result, const at::Tensor &kept,
                                 double tolerance);

/// Runs a generated candidate, storing its kept channels in `kept`.
using KeptRunner = std::function<Tensor3(at::Tensor *kept)>;

/// compareWithReference on the results of a generated candidate (`tactic`,
/// run by `runGenerated` with the constant timing seed) at the tolerance of
/// its element type (`tf32`: on TF32 tiles).
std::string verifyCandidate(const Tactic &tactic, const ConvBackwardArgs &args,
                            const KeptRunner &runGenerated, bool tf32);

/// A test hook (torch.ops.ssprop._corrupt_tactic): the tactic whose results
/// corruptForTests spoils, empty for none.
std::string &corruptedTacticForTests();
/// Adds 1 to the input and weight gradients when `tactic` is the corrupted
/// one.
void corruptForTests(const Tactic &tactic, Tensor3 &result);

/// Runs a layer by its tactic: the framework's gathered path or matrix
/// products, or `runGenerated` for its generated kernels (whose results the
/// test hook corruptForTests may spoil).
Tensor3 runTactic(const Tactic &tactic, const ConvBackwardArgs &args,
                  const std::function<Tensor3()> &runGenerated);

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

/// The gathered ATen backward of a linear layer (any device).
Tensor3 linearBackwardGathered(const at::Tensor &gradOutput,
                               const at::Tensor &input,
                               const at::Tensor &weight, bool hasBias,
                               const Selection &selection, bool weightOnly,
                               std::array<bool, 3> outputMask);

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

/// Adds one backward call's dense and actual FLOPs to the statistics.
void countConvBackwardFlops(const ConvBackwardArgs &args);
void countLinearBackwardFlops(const at::Tensor &gradOutput,
                              const at::Tensor &weight, int64_t numKept,
                              bool weightOnly, std::array<bool, 3> outputMask);

/// Counters of the JIT runtime, for ssprop.stats().
struct RuntimeStats {
  int64_t compiles = 0, memoryHits = 0, diskHits = 0;
  double compileMs = 0;
  int64_t timings = 0, provisional = 0, rejected = 0;
};
RuntimeStats getRuntimeStats();
void resetRuntimeStats();

/// What a layer resolved to, for the engine build's plan.
struct PreparedLayer {
  std::string key; ///< the timing cache's key
  Tactic tactic;
  std::vector<std::string> kernels;
  std::optional<double> ms; ///< the chosen tactic's time, if it was timed
};
/// A layer's backward on random tensors of its shapes on `device`, from a
/// private generator (the user's random state is left alone): the engine
/// build's and the background JIT's.
ConvBackwardArgs makeRandomConvArgs(const ConvLayerSpec &spec, bool hasBias,
                                    std::array<bool, 3> outputMask,
                                    const c10::Device &device);

/// A device's candidate timer (restoring the framework's generator or not)
/// and verifier.
using CandidateTimer = double (*)(const ResolvedLayer &,
                                  const ConvBackwardArgs &, bool);
using CandidateVerifier = std::string (*)(const ResolvedLayer &,
                                          const ConvBackwardArgs &);

/// The probe of a backward call: `time` and `verify` on its tensors (it
/// refers to `args`: it lives within the call), and a detach that makes a
/// detachedProbe on random tensors of the layer's shapes, which the
/// background JIT calls after the call returned.
LayerResolver::Probe makeProbe(const ConvBackwardArgs &args,
                               CandidateTimer time, CandidateVerifier verify);

/// What `layer`, the resolution of `spec` on `target`, runs.
PreparedLayer describeResolved(const LayerResolver &resolver,
                               const ConvLayerSpec &spec,
                               const LayerTarget &target,
                               const ResolvedLayer &layer);
/// Resolves a layer now, as its training would but blocking: compiled,
/// verified and timed (on the CPU or the current GPU).
PreparedLayer prepareConvCpu(const ConvBackwardArgs &args);
PreparedLayer prepareConvCuda(const ConvBackwardArgs &args);

/// buildEngine for Python: its summary as JSON; errors as c10::Error.
std::string buildEngineOp(const std::vector<ExportedLayer> &layers,
                          const c10::Device &device, const std::string &name,
                          const std::optional<std::string> &planPath,
                          bool progress);

/// Calls `visit` with the CPU's layer resolver and each GPU's made so far.
void forEachResolver(const std::function<void(LayerResolver &)> &visit);
/// The CPU's layer resolver.
LayerResolver &getCpuResolver();

} // namespace ssprop::torch_bridge

#endif // SSPROP_RUNTIME_TORCH_INTERNAL_H
