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
                         SeedSource seed, int workers,
                         const PlanRunner &run) {
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

Tensor3 runTactic(const Tactic &tactic, const ConvBackwardArgs &args,
                  const std::function<Tensor3()> &runGenerated) {
  switch (tactic.kind) {
  case TacticKind::gathered:
    return convBackwardGathered(args);
  case TacticKind::gemm:
    return convBackwardGemm(args);
  case TacticKind::generated:
    return runGenerated();
  }
  TORCH_INTERNAL_ASSERT(false, "ssprop: unknown tactic");
}

} // namespace ssprop::torch_bridge
