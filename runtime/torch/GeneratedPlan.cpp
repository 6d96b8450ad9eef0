//===- GeneratedPlan.cpp - running a layer's kernel plan on ATen memory ---===//
//
// What the CUDA and CPU backwards share around their generated kernels: the
// plan's buffers from ATen's allocator, the seeds of a random selection, the
// synchronisation of data-parallel processes between scoring and selection,
// and the gradients read back from the result buffers.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <sstream>

namespace ssprop::torch_bridge {
namespace {

/// Memory for every plan buffer on the arguments' device: the arguments
/// (contiguous NCHW), the results, the temporaries and `workers` copies of
/// each scratch buffer.
std::vector<at::Tensor> allocateBuffers(const KernelPlan &plan,
                                        const ConvBackwardArgs &args,
                                        int workers) {
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
    int64_t copies = buffer.role == BufferSpec::Role::Scratch ? workers : 1;
    buffers.push_back(
        at::empty({buffer.numElements * copies},
                  args.input.options().dtype(getScalarType(buffer.type))));
  }
  return buffers;
}

/// The kept channels a plan selected (the first k of its `kept` buffer),
/// ascending; every channel when it keeps them all.
at::Tensor findKept(const KernelPlan &plan, std::vector<at::Tensor> &buffers,
                    const ConvBackwardArgs &args) {
  const int64_t k = args.spec.getNumKept(), cout = args.weight.size(0);
  for (size_t i = 0; i < plan.buffers.size(); ++i)
    if (plan.buffers[i].name == "kept")
      return std::get<0>(buffers[i].narrow(0, 0, k).to(at::kLong).sort());
  TORCH_INTERNAL_ASSERT(k == cout, "ssprop: a plan keeping ", k, " of ", cout,
                        " channels has no kept buffer");
  return at::arange(cout, args.input.options().dtype(at::kLong));
}

at::Tensor findResult(const KernelPlan &plan, std::vector<at::Tensor> &buffers,
                      int index) {
  for (size_t i = 0; i < plan.buffers.size(); ++i)
    if (plan.buffers[i].role == BufferSpec::Role::Result &&
        plan.buffers[i].index == index)
      return buffers[i];
  return at::Tensor();
}

/// The plan's seeds; rank 0's when the processes of a group must agree.
std::vector<uint64_t> drawSeeds(const KernelPlan &plan, SeedSource seed,
                                const ConvBackwardArgs &args) {
  std::vector<uint64_t> seeds;
  for (int i = 0; i < plan.numSeeds; ++i)
    seeds.push_back(seed());
  if (!args.syncGroup || seeds.empty())
    return seeds;
  at::Tensor shared = broadcastFromRankZero(
      at::tensor(std::vector<int64_t>(seeds.begin(), seeds.end()),
                 at::TensorOptions().dtype(at::kLong).device(
                     args.gradOutput.device())),
      *args.syncGroup);
  at::Tensor host = shared.cpu();
  for (int i = 0; i < plan.numSeeds; ++i)
    seeds[i] = static_cast<uint64_t>(host[i].item<int64_t>());
  return seeds;
}

/// Replaces the plan's scores (means over this process's batch) with the
/// sums of |dy| over the whole group's batch: the same order as its means.
void syncScores(at::Tensor &scores, const ConvBackwardArgs &args) {
  const int64_t perChannel = args.gradOutput.numel() / args.weight.size(0);
  at::Tensor sums = scores.mul(static_cast<double>(perChannel));
  allReduceSum(sums, *args.syncGroup);
  scores.copy_(sums);
}

} // namespace

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

std::optional<ElementType> getElementType(at::ScalarType type) {
  for (ElementType element :
       {ElementType::f32, ElementType::f16, ElementType::bf16})
    if (getScalarType(element) == type)
      return element;
  return std::nullopt;
}

uint64_t timingSeed() { return 0; }

Tensor3 runGeneratedPlan(const ConvBackwardArgs &args, const KernelPlan &plan,
                         SeedSource seed, int workers, const PlanRunner &run,
                         at::Tensor *kept) {
  std::vector<at::Tensor> buffers = allocateBuffers(plan, args, workers);
  std::vector<void *> pointers;
  for (at::Tensor &buffer : buffers)
    pointers.push_back(buffer.data_ptr());
  const std::vector<uint64_t> seeds = drawSeeds(plan, seed, args);
  const int split = plan.selectLaunch;
  if (args.syncGroup && split >= 0) {
    run(pointers, seeds, 0, split);
    syncScores(buffers[plan.scoreBuffer], args);
    run(pointers, seeds, split, SIZE_MAX);
  } else {
    run(pointers, seeds, 0, SIZE_MAX);
  }
  if (kept)
    *kept = findKept(plan, buffers, args);
  at::Tensor gradWeight = findResult(plan, buffers, 0).view(args.weight.sizes());
  at::Tensor gradBias = args.hasBias && args.outputMask[2]
                            ? findResult(plan, buffers, 1)
                            : at::Tensor();
  at::Tensor gradInput =
      args.outputMask[0]
          ? findResult(plan, buffers, 2).view(args.input.sizes())
          : at::Tensor();
  return {gradInput, args.outputMask[1] ? gradWeight : at::Tensor(), gradBias};
}

double getVerifyTolerance(ElementType type, bool tf32) {
  switch (type) {
  case ElementType::f32:
    return tf32 ? 1e-2 : 1e-3;
  case ElementType::f16:
    return 1e-2;
  case ElementType::bf16:
    return 2e-2;
  case ElementType::i32:
    break;
  }
  return 0;
}

namespace {

/// Autograd's gradients with the channels outside `kept` of dy zeroed (dense
/// dy for a weight-only layer's input gradient): f64 on CUDA (no TF32), f32
/// on the CPU.
Tensor3 referenceGradients(const ConvBackwardArgs &args,
                           const at::Tensor &kept) {
  const at::ScalarType type =
      args.input.is_cuda() ? at::kDouble : at::kFloat;
  const at::Tensor dy = args.gradOutput.to(type), x = args.input.to(type),
                   w = args.weight.to(type);
  const int64_t cout = w.size(0);
  const at::Tensor mask = at::zeros({cout}, dy.options())
                              .index_fill_(0, kept, 1.0)
                              .view({1, cout, 1, 1});
  const std::array<bool, 3> &wanted = args.outputMask;
  auto backward = [&](const at::Tensor &gy, std::array<bool, 3> outputs) {
    const std::vector<int64_t> biasSize{cout};
    return at::convolution_backward(gy, x, w, at::OptionalIntArrayRef(biasSize),
                                    args.spec.stride, args.spec.padding,
                                    args.spec.dilation, false, {0, 0},
                                    args.spec.groups, outputs);
  };
  const bool denseInput = args.spec.weightOnly && wanted[0];
  Tensor3 reference = backward(
      dy * mask, {wanted[0] && !denseInput, wanted[1], wanted[2] && args.hasBias});
  if (denseInput)
    std::get<0>(reference) = std::get<0>(backward(dy, {true, false, false}));
  return reference;
}

/// How far `actual` is from `expected`, relative to expected's largest
/// magnitude; empty when within `tolerance`.
std::string compareTensor(const char *name, const at::Tensor &actual,
                          const at::Tensor &expected, double tolerance) {
  if (!expected.defined())
    return "";
  const double scale =
      std::max(expected.abs().max().item<double>(), 1e-30);
  const double error =
      (actual.to(expected.scalar_type()) - expected).abs().max().item<double>() /
      scale;
  if (error <= tolerance) // false for NaN
    return "";
  std::ostringstream message;
  message << name << " differs from the reference by " << error
          << " of its largest magnitude (tolerance " << tolerance << ")";
  return message.str();
}

/// Empty when `kept` holds k top-scored channels (mean |dy|, within
/// `tolerance` of the largest score for near ties).
std::string checkTopK(const ConvBackwardArgs &args, const at::Tensor &kept,
                      double tolerance) {
  const at::Tensor scores =
      args.gradOutput.to(at::kDouble).abs().mean(at::IntArrayRef{0, 2, 3});
  const int64_t cout = scores.size(0), k = args.spec.getNumKept();
  if (kept.numel() != k)
    return "it kept " + std::to_string(kept.numel()) + " channels, not " +
           std::to_string(k);
  if (k == cout)
    return "";
  const at::Tensor isKept = at::zeros({cout}, kept.options().dtype(at::kBool))
                                .index_fill_(0, kept, true);
  const double lowestKept = scores.masked_select(isKept).min().item<double>();
  const double highestDropped =
      scores.masked_select(isKept.logical_not()).max().item<double>();
  const double slack = tolerance * scores.max().item<double>();
  if (lowestKept + slack >= highestDropped)
    return "";
  return "it dropped a channel scoring " + std::to_string(highestDropped) +
         " and kept one scoring " + std::to_string(lowestKept);
}

} // namespace

std::string compareWithReference(const ConvBackwardArgs &args,
                                 const Tensor3 &result, const at::Tensor &kept,
                                 double tolerance) {
  if (args.spec.select == Select::topk)
    if (std::string error = checkTopK(args, kept, tolerance); !error.empty())
      return error;
  const Tensor3 expected = referenceGradients(args, kept);
  const char *names[] = {"grad_input", "grad_weight", "grad_bias"};
  const at::Tensor actual[] = {std::get<0>(result), std::get<1>(result),
                               std::get<2>(result)};
  const at::Tensor reference[] = {std::get<0>(expected), std::get<1>(expected),
                                  std::get<2>(expected)};
  for (int i = 0; i < 3; ++i)
    if (actual[i].defined())
      if (std::string error =
              compareTensor(names[i], actual[i], reference[i], tolerance);
          !error.empty())
        return error;
  return "";
}

std::string verifyCandidate(const Tactic &tactic, const ConvBackwardArgs &args,
                            const KeptRunner &runGenerated, bool tf32) {
  at::Tensor kept;
  const Tensor3 result =
      runTactic(tactic, args, [&] { return runGenerated(&kept); });
  return compareWithReference(args, result, kept,
                              getVerifyTolerance(args.spec.dtype, tf32));
}

std::string &corruptedTacticForTests() {
  static std::string name;
  return name;
}

void corruptForTests(const Tactic &tactic, Tensor3 &result) {
  const std::string &corrupted = corruptedTacticForTests();
  if (corrupted.empty() || tactic.getName() != corrupted)
    return;
  for (at::Tensor *gradient : {&std::get<0>(result), &std::get<1>(result)})
    if (gradient->defined())
      gradient->add_(1.0);
}

Tensor3 runTactic(const Tactic &tactic, const ConvBackwardArgs &args,
                  const std::function<Tensor3()> &runGenerated) {
  switch (tactic.kind) {
  case TacticKind::gathered:
    return convBackwardGathered(args);
  case TacticKind::gemm:
    return convBackwardGemm(args);
  case TacticKind::generated: {
    Tensor3 result = runGenerated();
    corruptForTests(tactic, result);
    return result;
  }
  }
  TORCH_INTERNAL_ASSERT(false, "ssprop: unknown tactic");
}

} // namespace ssprop::torch_bridge
