//===- Backward.cpp - validation, selection, the gathered ATen backward ---===//
//
// The reference implementation of ssProp's backward, used on the CPU and on
// every device without generated kernels: select k output channels, gather
// them, run ATen's dense backward on the gathered tensors and scatter the
// results into zeroed gradients. keep = 1 (k = Cout) runs exactly the call
// autograd makes for a dense convolution, so it is bit-for-bit dense.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Runtime/Tactics.h"
#include "ssprop/Torch/Ops.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace ssprop::torch_bridge {

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

void checkKeep(const char *where, double keep) {
  // Written so that NaN fails too.
  TORCH_CHECK(keep > 0.0 && keep <= 1.0, where, ": keep must be in (0, 1], got ",
              keep);
}

Select checkKeepAndSelect(const char *where, double keep,
                          const std::string &select) {
  checkKeep(where, keep);
  std::optional<Select> rule = parseSelect(select);
  TORCH_CHECK(rule, where, ": select must be \"topk\" or \"random\", got \"",
              select, "\"");
  return *rule;
}

std::array<int64_t, 2> expandPair(const char *where, const char *name,
                                  at::IntArrayRef values, int64_t minValue) {
  TORCH_CHECK(values.size() == 1 || values.size() == 2, where, ": ", name,
              " must have 2 elements (or 1, used for both dimensions), got ",
              values.size());
  std::array<int64_t, 2> out{values[0], values[values.size() - 1]};
  TORCH_CHECK(out[0] >= minValue && out[1] >= minValue, where, ": ", name,
              " must be >= ", minValue, ", got ", values);
  return out;
}

namespace {

/// The output size along one axis in 64-bit arithmetic must not overflow
/// (sizes known at trace time only: symbolic ones are checked when they
/// become concrete).
void checkNoOverflow(const char *where, const c10::SymInt &inputSize,
                     const c10::SymInt &kernelSize, int64_t stride,
                     int64_t padding, int64_t dilation, int dimension) {
  std::optional<int64_t> in = inputSize.maybe_as_int(),
                         kernel = kernelSize.maybe_as_int();
  if (!in || !kernel)
    return;
  TORCH_CHECK(getConvOutputSize(*in, *kernel, stride, padding, dilation), where,
              ": the convolution's output size overflows 64-bit arithmetic in "
              "dimension ",
              dimension, ": input size ", *in, ", padding ", padding,
              ", dilation ", dilation, ", kernel size ", *kernel);
}

void checkTensorLike(const char *where, const char *name, const at::Tensor &t,
                     const at::Tensor &input) {
  TORCH_CHECK(t.scalar_type() == input.scalar_type(), where, ": ", name,
              " must have the dtype of input (", input.scalar_type(), "), got ",
              t.scalar_type());
  TORCH_CHECK(t.device() == input.device(), where, ": ", name,
              " must be on the device of input (", input.device(), "), got ",
              t.device());
}

} // namespace

void checkConv2dArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias,
                     const std::array<int64_t, 2> &stride,
                     const std::array<int64_t, 2> &padding,
                     const std::array<int64_t, 2> &dilation, int64_t groups) {
  const char *w = "ssprop::conv2d";
  TORCH_CHECK(input.defined(), w, ": input is an undefined tensor");
  TORCH_CHECK(weight.defined(), w, ": weight is an undefined tensor");
  TORCH_CHECK(input.dim() == 4, w,
              ": input must be a 4-D tensor [N, C, H, W], got a ", input.dim(),
              "-D tensor of shape ", input.sym_sizes());
  TORCH_CHECK(weight.dim() == 4, w,
              ": weight must be a 4-D tensor [Cout, Cin/groups, KH, KW], got a ",
              weight.dim(), "-D tensor of shape ", weight.sym_sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), w,
              ": input must be a floating-point tensor, got ",
              input.scalar_type());
  checkTensorLike(w, "weight", weight, input);
  const c10::SymInt &cout = weight.sym_size(0);
  const c10::SymInt &cin = input.sym_size(1);
  if (bias && bias->defined()) {
    checkTensorLike(w, "bias", *bias, input);
    TORCH_CHECK(bias->dim() == 1 && bias->sym_size(0) == cout, w,
                ": bias must be a 1-D tensor of size ", cout,
                " (the output channels), got shape ", bias->sym_sizes());
  }
  TORCH_CHECK(groups >= 1, w, ": groups must be >= 1, got ", groups);
  TORCH_CHECK(cout % groups == 0, w, ": groups (", groups,
              ") must divide the output channels (weight.size(0) = ", cout,
              ")");
  TORCH_CHECK(cin % groups == 0, w, ": groups (", groups,
              ") must divide the input channels (input.size(1) = ", cin, ")");
  TORCH_CHECK(weight.sym_size(1) * groups == cin, w,
              ": weight.size(1) * groups must equal the input channels "
              "input.size(1): weight.size(1) = ",
              weight.sym_size(1), ", groups = ", groups,
              ", input.size(1) = ", cin);
  for (int d = 0; d < 2; ++d) {
    checkNoOverflow(w, input.sym_size(2 + d), weight.sym_size(2 + d), stride[d],
                    padding[d], dilation[d], 2 + d);
    c10::SymInt padded = input.sym_size(2 + d) + 2 * padding[d];
    c10::SymInt kernel = dilation[d] * (weight.sym_size(2 + d) - 1) + 1;
    TORCH_CHECK(padded >= kernel, w,
                ": the padded input is smaller than the dilated kernel in "
                "dimension ",
                2 + d, ": input size ", input.sym_size(2 + d), " + 2 * padding ",
                padding[d], " = ", padded, " < dilation ", dilation[d],
                " * (kernel size ", weight.sym_size(2 + d), " - 1) + 1 = ",
                kernel);
  }
}

std::vector<c10::SymInt>
convOutputSizes(const at::Tensor &input, const at::Tensor &weight,
                const std::array<int64_t, 2> &stride,
                const std::array<int64_t, 2> &padding,
                const std::array<int64_t, 2> &dilation) {
  // Without input channels ATen's convolution has no output channels either.
  std::vector<c10::SymInt> sizes{input.sym_size(0), input.sym_size(1) == 0
                                                        ? c10::SymInt(0)
                                                        : weight.sym_size(0)};
  for (int d = 0; d < 2; ++d)
    sizes.push_back((input.sym_size(2 + d) + 2 * padding[d] -
                     dilation[d] * (weight.sym_size(2 + d) - 1) - 1) /
                        stride[d] +
                    1);
  return sizes;
}

void checkLinearArgs(const at::Tensor &input, const at::Tensor &weight,
                     const std::optional<at::Tensor> &bias) {
  const char *w = "ssprop::linear";
  TORCH_CHECK(input.defined(), w, ": input is an undefined tensor");
  TORCH_CHECK(weight.defined(), w, ": weight is an undefined tensor");
  TORCH_CHECK(input.dim() >= 1, w,
              ": input must have at least 1 dimension [..., in_features], got "
              "a 0-D tensor");
  TORCH_CHECK(weight.dim() == 2, w,
              ": weight must be a 2-D tensor [out_features, in_features], got "
              "a ",
              weight.dim(), "-D tensor of shape ", weight.sym_sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), w,
              ": input must be a floating-point tensor, got ",
              input.scalar_type());
  checkTensorLike(w, "weight", weight, input);
  TORCH_CHECK(input.sym_size(-1) == weight.sym_size(1), w,
              ": input.size(-1) must equal weight.size(1) (in_features = ",
              weight.sym_size(1), "), got ", input.sym_size(-1));
  if (bias && bias->defined()) {
    checkTensorLike(w, "bias", *bias, input);
    TORCH_CHECK(bias->dim() == 1 && bias->sym_size(0) == weight.sym_size(0), w,
                ": bias must be a 1-D tensor of size ", weight.sym_size(0),
                " (out_features), got shape ", bias->sym_sizes());
  }
}

//===----------------------------------------------------------------------===//
// Selection
//===----------------------------------------------------------------------===//

namespace {

/// Calls one of PyTorch's functional collectives on `input` and waits for it.
/// `Args` must be the types of the kernel's C++ signature (std::string for
/// str), which the dispatcher checks.
template <typename... Args>
at::Tensor runCollective(const char *name, const at::Tensor &input,
                         Args... args) {
  using Signature = at::Tensor(const at::Tensor &, Args...);
  static const auto wait =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("_c10d_functional::wait_tensor", "")
          .typed<at::Tensor(const at::Tensor &)>();
  const auto op = c10::Dispatcher::singleton()
                      .findSchemaOrThrow(name, "")
                      .template typed<Signature>();
  return wait.call(op.call(input, args...));
}

/// |dy| reduced over every dimension but `channelDim`: the sum, or the mean
/// when `mean`; accumulated in f32 for reduced precision. Synchronised
/// processes all-reduce the sums (in f64) instead: their order is the order
/// of the means over the whole group's batch.
at::Tensor channelScores(const at::Tensor &dy, int64_t channelDim, bool mean,
                         const std::optional<std::string> &syncGroup) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < dy.dim(); ++d)
    if (d != channelDim)
      dims.push_back(d);
  const at::Tensor magnitude = dy.abs();
  if (syncGroup) {
    at::Tensor sums = at::sum(magnitude, dims, false, at::kDouble);
    allReduceSum(sums, *syncGroup);
    return sums;
  }
  std::optional<at::ScalarType> accumulate;
  if (at::isReducedFloatingType(dy.scalar_type()))
    accumulate = at::kFloat;
  return mean ? at::mean(magnitude, dims, false, accumulate)
              : at::sum(magnitude, dims, false, accumulate);
}

} // namespace

void allReduceSum(at::Tensor &tensor, const std::string &groupName) {
  tensor = runCollective("_c10d_functional::all_reduce", tensor,
                         std::string("sum"), groupName);
}

at::Tensor broadcastFromRankZero(const at::Tensor &tensor,
                                 const std::string &groupName) {
  return runCollective("_c10d_functional::broadcast", tensor, int64_t(0),
                       groupName);
}

at::Tensor selectTopK(const at::Tensor &scores, int64_t k) {
  // A stable descending sort keeps equal scores in channel order (ties to
  // the lower channel) and puts NaN first, as the generated kernels do.
  at::Tensor order =
      std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  return std::get<0>(order.narrow(0, 0, k).sort());
}

at::Tensor selectChannels(const at::Tensor &dy, int64_t channelDim,
                          const Selection &selection, bool meanScores) {
  if (selection.select == Select::topk)
    return selectTopK(
        channelScores(dy, channelDim, meanScores, selection.syncGroup),
        selection.numKept);
  // The default generator of the device: torch.manual_seed reproduces it.
  at::Tensor idx =
      at::randperm(dy.size(channelDim),
                   at::TensorOptions().dtype(at::kLong).device(dy.device()))
          .narrow(0, 0, selection.numKept);
  if (selection.syncGroup)
    idx = broadcastFromRankZero(idx, *selection.syncGroup);
  // Ascending order: gathers walk memory forward and reductions over the kept
  // channels run in the order of the dense backward.
  return std::get<0>(idx.sort());
}

namespace {

at::Tensor indexTensor(const std::vector<int64_t> &values,
                       const at::Device &device) {
  return at::tensor(values, at::TensorOptions().dtype(at::kLong)).to(device);
}

at::Tensor scatterRows(const at::Tensor &like, const at::Tensor &idx,
                       const at::Tensor &rows) {
  return at::zeros_like(like).index_copy_(0, idx, rows);
}

/// The kept channels of a convolution's backward, by its selection rule.
at::Tensor selectConvChannels(const ConvBackwardArgs &a) {
  return selectChannels(a.gradOutput, 1, a.getSelection(), /*meanScores=*/true);
}

} // namespace

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

Tensor3 convBackwardGemm(const ConvBackwardArgs &a) {
  TORCH_INTERNAL_ASSERT(isPlainGemm(a.spec.getGeometry()));
  const at::Tensor &w = a.weight;
  const int64_t n = a.input.size(0), cin = a.input.size(1), cout = w.size(0);
  const int64_t k = a.spec.getNumKept();
  const at::Tensor idx = k < cout ? selectConvChannels(a) : at::Tensor();
  auto kept = [&](const at::Tensor &t, int64_t dim) {
    return idx.defined() ? t.index_select(dim, idx) : t;
  };
  auto scatter = [&](const at::Tensor &like, const at::Tensor &rows) {
    return idx.defined() ? scatterRows(like, idx, rows) : rows;
  };
  // [N, C, HW] views: per image, dW = dy x^T and dx = W^T dy.
  const at::Tensor x3 = a.input.reshape({n, cin, -1});
  const at::Tensor dy3 = a.gradOutput.reshape({n, cout, -1});
  const at::Tensor dyk = kept(dy3, 1), w2 = w.reshape({cout, cin});
  at::Tensor gx, gw, gb;
  if (a.outputMask[0])
    gx = at::matmul((a.spec.weightOnly ? w2 : kept(w2, 0)).t(),
                    a.spec.weightOnly ? dy3 : dyk)
             .view(a.input.sizes());
  if (a.outputMask[1])
    gw = scatter(w, at::matmul(dyk, x3.transpose(1, 2)).sum(0).view(
                        {dyk.size(1), cin, 1, 1}));
  if (a.outputMask[2])
    gb = scatter(at::empty({cout}, dy3.options()),
                 dyk.sum(at::IntArrayRef{0, 2}));
  return {gx, gw, gb};
}

Tensor3 convBackwardGathered(const ConvBackwardArgs &a) {
  const at::Tensor &dy = a.gradOutput, &x = a.input, &w = a.weight;
  const int64_t cout = w.size(0), groups = a.spec.groups, coutG = cout / groups,
                cinG = w.size(1);
  const int64_t k = a.spec.getNumKept();
  std::array<bool, 3> mask = a.outputMask;
  mask[2] = mask[2] && a.hasBias;
  const std::array<int64_t, 2> noOutputPadding{0, 0};

  auto denseBackward = [&](const at::Tensor &gy, const at::Tensor &in,
                           const at::Tensor &wt, std::optional<int64_t> biasSize,
                           int64_t g, std::array<bool, 3> m) {
    std::vector<int64_t> bs;
    if (biasSize)
      bs.push_back(*biasSize);
    return at::convolution_backward(
        gy, in, wt, biasSize ? at::OptionalIntArrayRef(bs) : std::nullopt,
        a.spec.stride, a.spec.padding, a.spec.dilation, /*transposed=*/false,
        noOutputPadding, g, m);
  };

  // keep = 1: exactly autograd's call for at::convolution.
  if (k >= cout)
    return denseBackward(dy, x, w,
                         a.hasBias ? std::optional<int64_t>(cout) : std::nullopt,
                         groups, mask);

  at::Tensor gx, gw, gb;
  if (a.spec.weightOnly && mask[0])
    gx = std::get<0>(denseBackward(dy, x, w, std::nullopt, groups,
                                   {true, false, false}));
  const bool sparseDx = mask[0] && !a.spec.weightOnly;
  if (!sparseDx && !mask[1] && !mask[2])
    return {gx, gw, gb};

  at::Tensor idx = selectConvChannels(a);

  if (groups == 1) {
    auto [gxk, gwk, gbk] =
        denseBackward(dy.index_select(1, idx), x, w.index_select(0, idx),
                      mask[2] ? std::optional<int64_t>(k) : std::nullopt, 1,
                      {sparseDx, mask[1], mask[2]});
    if (sparseDx)
      gx = gxk;
    if (mask[1])
      gw = scatterRows(w, idx, gwk);
    if (mask[2])
      gb = at::zeros({cout}, gbk.options()).index_copy_(0, idx, gbk);
    return {gx, gw, gb};
  }

  // Grouped: kept channels fall unevenly across groups. Every group with at
  // least one kept channel takes part with the same number m of channels (the
  // largest count), padded with unselected channels of that group whose dy is
  // zeroed; groups without kept channels are left out, with their input
  // channels. One grouped call then computes exactly the dense backward with
  // the unselected channels of dy zeroed (a depthwise convolution becomes a
  // k-channel depthwise convolution).
  const at::Tensor idxCpu = idx.to(at::kCPU).contiguous();
  const int64_t *ip = idxCpu.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> keptIn(groups);
  for (int64_t i = 0; i < k; ++i)
    keptIn[ip[i] / coutG].push_back(ip[i]);
  int64_t per = 0;
  std::vector<int64_t> active;
  for (int64_t j = 0; j < groups; ++j)
    if (!keptIn[j].empty()) {
      active.push_back(j);
      per = std::max<int64_t>(per, static_cast<int64_t>(keptIn[j].size()));
    }
  std::vector<int64_t> sel, keptPos, fillPos, inChannels;
  std::vector<char> isKept(coutG);
  for (int64_t j : active) {
    std::fill(isKept.begin(), isKept.end(), 0);
    for (int64_t c : keptIn[j]) {
      isKept[c - j * coutG] = 1;
      keptPos.push_back(static_cast<int64_t>(sel.size()));
      sel.push_back(c);
    }
    for (int64_t c = 0, n = static_cast<int64_t>(keptIn[j].size()); n < per;
         ++c)
      if (!isKept[c]) {
        fillPos.push_back(static_cast<int64_t>(sel.size()));
        sel.push_back(j * coutG + c);
        ++n;
      }
    for (int64_t c = j * cinG; c < (j + 1) * cinG; ++c)
      inChannels.push_back(c);
  }
  const int64_t activeGroups = static_cast<int64_t>(active.size());
  const bool allActive = activeGroups == groups;
  const at::Device dev = dy.device();
  const at::Tensor selT = fillPos.empty() ? idx : indexTensor(sel, dev);
  at::Tensor dys = dy.index_select(1, selT);
  if (!fillPos.empty())
    dys.index_fill_(1, indexTensor(fillPos, dev), 0);
  at::Tensor inChT = allActive ? at::Tensor() : indexTensor(inChannels, dev);
  at::Tensor xs = allActive ? x : x.index_select(1, inChT);
  auto [gxs, gws, gbs] = denseBackward(
      dys, xs, w.index_select(0, selT),
      mask[2] ? std::optional<int64_t>(activeGroups * per) : std::nullopt,
      activeGroups, {sparseDx, mask[1], mask[2]});
  if (sparseDx)
    gx = allActive ? gxs : at::zeros_like(x).index_copy_(1, inChT, gxs);
  const at::Tensor keptPosT =
      fillPos.empty() ? at::Tensor() : indexTensor(keptPos, dev);
  auto keptRows = [&](const at::Tensor &t) {
    return fillPos.empty() ? t : t.index_select(0, keptPosT);
  };
  if (mask[1])
    gw = scatterRows(w, idx, keptRows(gws));
  if (mask[2])
    gb = at::zeros({cout}, gbs.options()).index_copy_(0, idx, keptRows(gbs));
  return {gx, gw, gb};
}

std::vector<Tactic> getConvTactics(const ConvBackwardArgs &args) {
  if (args.gradOutput.is_cuda())
    return getConvTacticsCuda(args);
  if (args.gradOutput.is_cpu())
    return getConvTacticsCpu(args);
  return getCpuTacticCandidates(args.spec, std::nullopt);
}

Tensor3 convBackwardHost(const ConvBackwardArgs &args) {
  std::optional<Tactic> forced;
  try {
    forced = getForcedTactic(getCpuTacticCandidates(args.spec, std::nullopt));
  } catch (const TacticError &error) {
    TORCH_CHECK(false, error.what());
  }
  return forced && forced->kind == TacticKind::gemm ? convBackwardGemm(args)
                                                    : convBackwardGathered(args);
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

namespace {

/// dy2 @ w as autograd's mm backward computes it for the input x2.
at::Tensor linearGradInput(const at::Tensor &dy2, const at::Tensor &w,
                           const at::Tensor &x2) {
  if (x2.stride(0) == 1 && x2.stride(1) == x2.size(0))
    return w.t().mm(dy2.t()).t();
  return dy2.mm(w);
}

/// dy2^T @ x2 as autograd's mm backward computes it for the weight w.
at::Tensor linearGradWeight(const at::Tensor &dy2, const at::Tensor &x2,
                            const at::Tensor &w) {
  if (w.stride(1) == 1 && w.stride(0) == w.size(1))
    return dy2.t().mm(x2);
  return x2.t().mm(dy2).t();
}

} // namespace

Tensor3 linearBackwardGathered(const at::Tensor &dy, const at::Tensor &input,
                               const at::Tensor &w, bool hasBias,
                               const Selection &selection, bool weightOnly,
                               std::array<bool, 3> mask) {
  const int64_t out = w.size(0), in = w.size(1);
  mask[2] = mask[2] && hasBias;
  const at::Tensor x2 = input.reshape({-1, in});
  const at::Tensor dy2 = dy.reshape({-1, out});
  const int64_t k = selection.numKept;
  at::Tensor gx, gw, gb;
  if (k >= out) {
    if (mask[0])
      gx = linearGradInput(dy2, w, x2).reshape(input.sizes());
    if (mask[1])
      gw = linearGradWeight(dy2, x2, w);
    if (mask[2])
      gb = dy2.sum(0);
    return {gx, gw, gb};
  }
  if (weightOnly && mask[0])
    gx = linearGradInput(dy2, w, x2).reshape(input.sizes());
  const bool sparseDx = mask[0] && !weightOnly;
  if (!sparseDx && !mask[1] && !mask[2])
    return {gx, gw, gb};
  const at::Tensor idx =
      selectChannels(dy2, 1, selection, /*meanScores=*/false);
  const at::Tensor dyk = dy2.index_select(1, idx);
  if (sparseDx)
    gx = dyk.mm(w.index_select(0, idx)).reshape(input.sizes());
  if (mask[1])
    gw = scatterRows(w, idx, dyk.t().mm(x2));
  if (mask[2])
    gb = at::zeros({out}, dyk.options()).index_copy_(0, idx, dyk.sum(0));
  return {gx, gw, gb};
}

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

namespace {

std::mutex statsMutex;
double denseFlops = 0, actualFlops = 0;

/// Adds one backward call to the statistics: `perChannel` FLOPs per output
/// channel for each of wgrad and dgrad, over all `channels` (dense) or the
/// `kept` ones (ssProp; dgrad stays dense when weight-only).
void countBackwardFlops(double perChannel, int64_t channels, int64_t numKept,
                        bool weightOnly, std::array<bool, 3> mask) {
  const double all = static_cast<double>(channels);
  const double kept = static_cast<double>(numKept);
  double dense = 0, actual = 0;
  if (mask[1]) {
    dense += perChannel * all;
    actual += perChannel * kept;
  }
  if (mask[0]) {
    dense += perChannel * all;
    actual += perChannel * (weightOnly ? all : kept);
  }
  std::lock_guard<std::mutex> lock(statsMutex);
  denseFlops += dense;
  actualFlops += actual;
}

} // namespace

void countConvBackwardFlops(const ConvBackwardArgs &a) {
  countBackwardFlops(a.spec.getFlopsPerOutputChannel(), a.weight.size(0),
                     a.spec.getNumKept(), a.spec.weightOnly, a.outputMask);
}

void countLinearBackwardFlops(const at::Tensor &dy, const at::Tensor &w,
                              int64_t numKept, bool weightOnly,
                              std::array<bool, 3> mask) {
  // 2 * rows * in_features per output feature.
  const double rows =
      w.size(0) == 0 ? 0.0 : static_cast<double>(dy.numel() / w.size(0));
  countBackwardFlops(2.0 * rows * static_cast<double>(w.size(1)), w.size(0),
                     numKept, weightOnly, mask);
}

} // namespace ssprop::torch_bridge

namespace ssprop {

Stats stats() {
  Stats s;
  {
    std::lock_guard<std::mutex> lock(torch_bridge::statsMutex);
    s.denseBackwardFlops = torch_bridge::denseFlops;
    s.actualBackwardFlops = torch_bridge::actualFlops;
  }
  const torch_bridge::RuntimeStats rt = torch_bridge::getRuntimeStats();
  s.kernelsCompiled = rt.compiles;
  s.memoryHits = rt.memoryHits;
  s.diskHits = rt.diskHits;
  s.compileMs = rt.compileMs;
  s.tacticTimings = rt.timings;
  s.provisionalCalls = rt.provisional;
  s.rejectedCandidates = rt.rejected;
  return s;
}

void resetStats() {
  {
    std::lock_guard<std::mutex> lock(torch_bridge::statsMutex);
    torch_bridge::denseFlops = torch_bridge::actualFlops = 0;
  }
  torch_bridge::resetRuntimeStats();
}

} // namespace ssprop
