//===- Ops.cpp - ssprop::conv2d and ssprop::linear for LibTorch -----------===//
//
// TORCH_LIBRARY(ssprop): the operators, their kernels and their autograd.
//
//   conv2d / linear        forward: the dense ATen op
//   (CompositeExplicitAutograd,
//                          also the Meta kernel, on symbolic shapes too);
//                          Autograd: a torch::autograd::Function whose
//                          backward calls _conv2d_backward / _linear_backward.
//   _conv2d_backward       the ssProp backward as an operator of its own, so
//   _linear_backward       that FakeTensor / AOTAutograd / torch.compile trace
//                          it as one node: gathered ATen on every device
//                          (CompositeExplicitAutograd), resolved tactics with
//                          generated kernels on CUDA and the CPU
//                          (convBackwardCuda, convBackwardCpu), shapes on
//                          Meta; Autograd raises a clear error on double
//                          backward.
//   AutocastCPU/CUDA       conv2d and linear in the autocast dtype, as
//                          torch.nn.functional's.
//   stats, reset_stats     the counters of ssprop.stats().
//   classes.KeepSchedule   the keep schedule of Python's ssprop.DropScheduler
//                          (registered by Scheduler.cpp).
//
// No Python C API: the same library loads into any Python with
// torch.ops.load_library and links into C++ programs.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Core/Version.h"
#include "ssprop/Runtime/Tactics.h"
#include "ssprop/Torch/Ops.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/SymIntArrayRef.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <cstdlib>
#include <string>

namespace ssprop::torch_bridge {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Tensor3 = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

constexpr const char *kConv = "ssprop::conv2d";
constexpr const char *kLinear = "ssprop::linear";

//===----------------------------------------------------------------------===//
// Operator handles
//===----------------------------------------------------------------------===//

using OptionalString = std::optional<c10::string_view>;
using Conv2dSig = at::Tensor(const at::Tensor &, const at::Tensor &,
                             const std::optional<at::Tensor> &, at::IntArrayRef,
                             at::IntArrayRef, at::IntArrayRef, int64_t, double,
                             c10::string_view, bool, OptionalString);
using LinearSig = at::Tensor(const at::Tensor &, const at::Tensor &,
                             const std::optional<at::Tensor> &, double,
                             c10::string_view, bool, OptionalString);
using Conv2dBackwardSig = Tensor3(const at::Tensor &, const at::Tensor &,
                                  const at::Tensor &, bool, at::IntArrayRef,
                                  at::IntArrayRef, at::IntArrayRef, int64_t,
                                  double, c10::string_view, bool,
                                  std::array<bool, 3>, OptionalString);
using LinearBackwardSig = Tensor3(const at::Tensor &, const at::Tensor &,
                                  const at::Tensor &, bool, double,
                                  c10::string_view, bool, std::array<bool, 3>,
                                  OptionalString);

template <typename Sig>
const c10::TypedOperatorHandle<Sig> &handle(const char *name) {
  // One static per signature: each signature belongs to one operator.
  static const c10::TypedOperatorHandle<Sig> h =
      c10::Dispatcher::singleton().findSchemaOrThrow(name, "").template typed<Sig>();
  return h;
}

const c10::TypedOperatorHandle<Conv2dSig> &conv2dOp() {
  return handle<Conv2dSig>("ssprop::conv2d");
}
const c10::TypedOperatorHandle<LinearSig> &linearOp() {
  return handle<LinearSig>("ssprop::linear");
}
const c10::TypedOperatorHandle<Conv2dBackwardSig> &conv2dBackwardOp() {
  return handle<Conv2dBackwardSig>("ssprop::_conv2d_backward");
}
const c10::TypedOperatorHandle<LinearBackwardSig> &linearBackwardOp() {
  return handle<LinearBackwardSig>("ssprop::_linear_backward");
}

//===----------------------------------------------------------------------===//
// Forward kernels (every backend, Meta included)
//===----------------------------------------------------------------------===//

struct CheckedConv {
  std::array<int64_t, 2> stride, padding, dilation;
  Select select;
};

CheckedConv checkConv(const at::Tensor &input, const at::Tensor &weight,
                      const std::optional<at::Tensor> &bias,
                      at::IntArrayRef stride, at::IntArrayRef padding,
                      at::IntArrayRef dilation, int64_t groups, double keep,
                      c10::string_view select) {
  Select rule = checkKeepAndSelect(kConv, keep, std::string(select));
  CheckedConv g{expandPair(kConv, "stride", stride, 1),
                expandPair(kConv, "padding", padding, 0),
                expandPair(kConv, "dilation", dilation, 1), rule};
  checkConv2dArgs(input, weight, bias, g.stride, g.padding, g.dilation, groups);
  return g;
}

/// The layout of a convolution's output, as cuDNN and oneDNN choose it:
/// channels_last when the input or the weight is, else contiguous. Forward
/// kernels follow it on every backend, so the Meta kernel can promise it.
at::MemoryFormat convOutputFormat(const at::Tensor &input,
                                  const at::Tensor &weight) {
  return input.suggest_memory_format() == at::MemoryFormat::ChannelsLast ||
                 weight.suggest_memory_format() == at::MemoryFormat::ChannelsLast
             ? at::MemoryFormat::ChannelsLast
             : at::MemoryFormat::Contiguous;
}

/// `t` with exactly the strides of at::empty(t.sizes(), format).
at::Tensor withFormat(const at::Tensor &t, at::MemoryFormat format) {
  const at::Tensor ref = at::empty(
      t.sizes(), t.options().device(at::kMeta).memory_format(format));
  if (t.strides() == ref.strides())
    return t;
  return at::empty(t.sizes(), t.options().memory_format(format)).copy_(t);
}

at::Tensor conv2dDense(const at::Tensor &input, const at::Tensor &weight,
                       const std::optional<at::Tensor> &bias,
                       at::IntArrayRef stride, at::IntArrayRef padding,
                       at::IntArrayRef dilation, int64_t groups, double keep,
                       c10::string_view select) {
  CheckedConv g = checkConv(input, weight, bias, stride, padding, dilation,
                            groups, keep, select);
  const std::array<int64_t, 2> noOutputPadding{0, 0};
  return at::convolution(input, weight, bias, g.stride, g.padding, g.dilation,
                         /*transposed=*/false, noOutputPadding, groups);
}

at::Tensor conv2dForward(const at::Tensor &input, const at::Tensor &weight,
                         const std::optional<at::Tensor> &bias,
                         at::IntArrayRef stride, at::IntArrayRef padding,
                         at::IntArrayRef dilation, int64_t groups, double keep,
                         c10::string_view select, bool weightOnly,
                         OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  return withFormat(conv2dDense(input, weight, bias, stride, padding, dilation,
                                groups, keep, select),
                    convOutputFormat(input, weight));
}

at::Tensor conv2dForwardMeta(const at::Tensor &input, const at::Tensor &weight,
                             const std::optional<at::Tensor> &bias,
                             at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, int64_t groups,
                             double keep, c10::string_view select,
                             bool weightOnly, OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  CheckedConv g = checkConv(input, weight, bias, stride, padding, dilation,
                            groups, keep, select);
  // Shapes only (ATen's own convolution has no C++ Meta kernel), on symbolic
  // sizes too; the numerators are >= 0 after checkConv.
  return at::empty_symint(
      convOutputSizes(input, weight, g.stride, g.padding, g.dilation),
      input.options().memory_format(convOutputFormat(input, weight)));
}

/// [..., out_features]: a linear layer's output shape (symbolic too).
std::vector<c10::SymInt> linearOutputSizes(const at::Tensor &input,
                                           const at::Tensor &weight) {
  std::vector<c10::SymInt> sizes(input.sym_sizes().begin(),
                                 input.sym_sizes().end() - 1);
  sizes.push_back(weight.sym_size(0));
  return sizes;
}

at::Tensor linearForward(const at::Tensor &input, const at::Tensor &weight,
                         const std::optional<at::Tensor> &bias, double keep,
                         c10::string_view select, bool weightOnly,
                         OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  checkKeepAndSelect(kLinear, keep, std::string(select));
  checkLinearArgs(input, weight, bias);
  return at::linear(input, weight, bias).contiguous();
}

at::Tensor linearForwardMeta(const at::Tensor &input, const at::Tensor &weight,
                             const std::optional<at::Tensor> &bias, double keep,
                             c10::string_view select, bool weightOnly,
                             OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  checkKeepAndSelect(kLinear, keep, std::string(select));
  checkLinearArgs(input, weight, bias);
  return at::empty_symint(linearOutputSizes(input, weight), input.options());
}

//===----------------------------------------------------------------------===//
// Backward kernels
//===----------------------------------------------------------------------===//

/// Gives a gradient the layout of at::empty_like(like) (what the Meta kernels
/// promise, so compiled graphs can trust their strides); values unchanged.
at::Tensor matchLayout(const at::Tensor &t, const at::Tensor &like) {
  if (!t.defined())
    return t;
  const at::Tensor ref = at::empty_like(like, at::TensorOptions().device(at::kMeta));
  if (t.strides() == ref.strides())
    return t;
  at::Tensor out = at::empty_like(like, t.options());
  out.copy_(t);
  return out;
}

Tensor3 finishConvBackward(Tensor3 grads, const ConvBackwardArgs &args) {
  auto &[gx, gw, gb] = grads;
  gx = matchLayout(gx, args.input);
  gw = matchLayout(gw, args.weight);
  if (gb.defined() && !gb.is_contiguous())
    gb = gb.contiguous();
  return grads;
}

std::optional<std::string> toOptionalString(OptionalString value) {
  return value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
}

/// checkConv for the backward op, and grad_output's shape (symbolic too).
CheckedConv checkConvBackward(const at::Tensor &gradOutput,
                              const at::Tensor &input, const at::Tensor &weight,
                              at::IntArrayRef stride, at::IntArrayRef padding,
                              at::IntArrayRef dilation, int64_t groups,
                              double keep, c10::string_view select) {
  CheckedConv g = checkConv(input, weight, std::nullopt, stride, padding,
                            dilation, groups, keep, select);
  const std::vector<c10::SymInt> expected =
      convOutputSizes(input, weight, g.stride, g.padding, g.dilation);
  TORCH_CHECK(gradOutput.sym_sizes() == c10::SymIntArrayRef(expected), kConv,
              ": grad_output must have the shape of the output, ",
              c10::SymIntArrayRef(expected), ", got ", gradOutput.sym_sizes());
  return g;
}

ConvBackwardArgs
makeConvBackwardArgs(const at::Tensor &gradOutput, const at::Tensor &input,
                     const at::Tensor &weight, bool hasBias,
                     at::IntArrayRef stride, at::IntArrayRef padding,
                     at::IntArrayRef dilation, int64_t groups, double keep,
                     c10::string_view select, bool weightOnly,
                     std::array<bool, 3> outputMask, OptionalString syncGroup) {
  CheckedConv g = checkConvBackward(gradOutput, input, weight, stride, padding,
                                    dilation, groups, keep, select);
  ConvBackwardArgs args;
  args.gradOutput = gradOutput;
  args.input = input;
  args.weight = weight;
  args.hasBias = hasBias;
  ConvLayerSpec &spec = args.spec;
  for (int i = 0; i < 4; ++i) {
    spec.inputShape[i] = input.size(i);
    spec.weightShape[i] = weight.size(i);
  }
  spec.stride = g.stride;
  spec.padding = g.padding;
  spec.dilation = g.dilation;
  spec.groups = groups;
  // f64 layers only run the ATen path, which does not read the dtype.
  spec.dtype = getElementType(input.scalar_type()).value_or(ElementType::f32);
  spec.keep = keep;
  spec.select = g.select;
  spec.weightOnly = weightOnly;
  spec.needInputGrad = outputMask[0];
  args.outputMask = {outputMask[0], outputMask[1], outputMask[2] && hasBias};
  args.syncGroup = toOptionalString(syncGroup);
  return args;
}

/// The gradients of a convolution without input channels, whose output has
/// no channels either (as ATen's): zeros, as dense autograd gives them.
Tensor3 noChannelGrads(const ConvBackwardArgs &args) {
  const auto &[dx, dw, db] = args.outputMask;
  return {dx ? at::zeros_like(args.input) : at::Tensor(),
          dw ? at::zeros_like(args.weight) : at::Tensor(),
          db ? at::zeros({args.weight.size(0)}, args.weight.options())
             : at::Tensor()};
}

/// Runs `backend`, then finishes and counts its gradients.
Tensor3 runConvBackward(const ConvBackwardArgs &args,
                        Tensor3 (*backend)(const ConvBackwardArgs &)) {
  if (args.input.size(1) == 0)
    backend = noChannelGrads;
  Tensor3 grads = finishConvBackward(backend(args), args);
  countConvBackwardFlops(args);
  return grads;
}

/// Devices without resolved tactics: the gathered ATen backward, or the forced
/// tactic where it runs here (convBackwardHost).
Tensor3 conv2dBackwardGeneric(const at::Tensor &gradOutput,
                              const at::Tensor &input, const at::Tensor &weight,
                              bool hasBias, at::IntArrayRef stride,
                              at::IntArrayRef padding, at::IntArrayRef dilation,
                              int64_t groups, double keep,
                              c10::string_view select, bool weightOnly,
                              std::array<bool, 3> outputMask,
                              OptionalString syncGroup) {
  ConvBackwardArgs args = makeConvBackwardArgs(
      gradOutput, input, weight, hasBias, stride, padding, dilation, groups,
      keep, select, weightOnly, outputMask, syncGroup);
  return runConvBackward(args, convBackwardHost);
}

/// Devices with resolved tactics: the layer's tactic (generated kernels, the
/// framework's gathered backward or matrix products); keep = 1 stays the
/// dense ATen (cuDNN, oneDNN) backward, bit for bit what autograd computes.
/// An empty batch also takes the ATen path: its gradients are zeros, and the
/// generated kernels would launch empty grids, which CUDA rejects.
template <Tensor3 (*backend)(const ConvBackwardArgs &)>
Tensor3 conv2dBackwardOn(const at::Tensor &gradOutput, const at::Tensor &input,
                         const at::Tensor &weight, bool hasBias,
                         at::IntArrayRef stride, at::IntArrayRef padding,
                         at::IntArrayRef dilation, int64_t groups, double keep,
                         c10::string_view select, bool weightOnly,
                         std::array<bool, 3> outputMask,
                         OptionalString syncGroup) {
  ConvBackwardArgs args = makeConvBackwardArgs(
      gradOutput, input, weight, hasBias, stride, padding, dilation, groups,
      keep, select, weightOnly, outputMask, syncGroup);
  const bool dense = args.spec.getNumKept() >= weight.size(0);
  const bool empty = gradOutput.numel() == 0;
  return runConvBackward(args, dense || empty ? convBackwardGathered : backend);
}

Tensor3 conv2dBackwardMeta(const at::Tensor &gradOutput,
                           const at::Tensor &input, const at::Tensor &weight,
                           bool hasBias, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef dilation,
                           int64_t groups, double keep, c10::string_view select,
                           bool weightOnly, std::array<bool, 3> outputMask,
                           OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  checkConvBackward(gradOutput, input, weight, stride, padding, dilation,
                    groups, keep, select);
  at::Tensor gx, gw, gb;
  if (outputMask[0])
    gx = at::empty_like(input);
  if (outputMask[1])
    gw = at::empty_like(weight);
  if (outputMask[2] && hasBias)
    gb = at::empty_symint(c10::SymIntArrayRef({weight.sym_size(0)}),
                          gradOutput.options());
  return {gx, gw, gb};
}

Select checkLinearBackward(const at::Tensor &gradOutput,
                           const at::Tensor &input, const at::Tensor &weight,
                           double keep, c10::string_view select) {
  Select rule = checkKeepAndSelect(kLinear, keep, std::string(select));
  checkLinearArgs(input, weight, std::nullopt);
  const std::vector<c10::SymInt> expected = linearOutputSizes(input, weight);
  TORCH_CHECK(gradOutput.sym_sizes() == c10::SymIntArrayRef(expected), kLinear,
              ": grad_output must have the shape of the output, ",
              c10::SymIntArrayRef(expected), ", got ", gradOutput.sym_sizes());
  return rule;
}

Tensor3 linearBackwardGeneric(const at::Tensor &gradOutput,
                              const at::Tensor &input, const at::Tensor &weight,
                              bool hasBias, double keep,
                              c10::string_view select, bool weightOnly,
                              std::array<bool, 3> outputMask,
                              OptionalString syncGroup) {
  const Selection selection{
      checkLinearBackward(gradOutput, input, weight, keep, select),
      keptChannels(keep, weight.size(0)), toOptionalString(syncGroup)};
  outputMask[2] = outputMask[2] && hasBias;
  auto [gx, gw, gb] = linearBackwardGathered(gradOutput, input, weight, hasBias,
                                             selection, weightOnly, outputMask);
  countLinearBackwardFlops(gradOutput, weight, selection.numKept, weightOnly,
                           outputMask);
  return {matchLayout(gx, input), matchLayout(gw, weight),
          gb.defined() ? gb.contiguous() : gb};
}

Tensor3 linearBackwardMeta(const at::Tensor &gradOutput,
                           const at::Tensor &input, const at::Tensor &weight,
                           bool hasBias, double keep, c10::string_view select,
                           bool weightOnly, std::array<bool, 3> outputMask,
                           OptionalString syncGroup) {
  (void)weightOnly, (void)syncGroup;
  checkLinearBackward(gradOutput, input, weight, keep, select);
  at::Tensor gx, gw, gb;
  if (outputMask[0])
    gx = at::empty_like(input);
  if (outputMask[1])
    gw = at::empty_like(weight);
  if (outputMask[2] && hasBias)
    gb = at::empty_symint(c10::SymIntArrayRef({weight.sym_size(0)}),
                          gradOutput.options());
  return {gx, gw, gb};
}

//===----------------------------------------------------------------------===//
// Autograd
//===----------------------------------------------------------------------===//

constexpr const char *kDoubleBackward =
    ": double backward is not supported: the ssProp backward is not "
    "differentiable (a gradient of its gradients was requested, e.g. "
    "torch.autograd.grad(..., create_graph=True) followed by a backward "
    "through the result)";

/// Saves what both layers' backwards need besides the tensors.
void saveSparsity(AutogradContext *ctx, const std::optional<at::Tensor> &bias,
                  double keep, c10::string_view select, bool weightOnly,
                  OptionalString syncGroup) {
  ctx->saved_data["keep"] = keep;
  ctx->saved_data["select"] = std::string(select);
  ctx->saved_data["weight_only"] = weightOnly;
  ctx->saved_data["has_bias"] = bias.has_value() && bias->defined();
  if (syncGroup)
    ctx->saved_data["sync_group"] = std::string(*syncGroup);
}

/// The process group saved by saveSparsity, if any.
std::optional<std::string> getSyncGroup(AutogradContext *ctx) {
  auto it = ctx->saved_data.find("sync_group");
  if (it == ctx->saved_data.end())
    return std::nullopt;
  return it->second.toStringRef();
}

/// Which of grad_input, grad_weight, grad_bias autograd asks for.
std::array<bool, 3> getOutputMask(AutogradContext *ctx) {
  return {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
          ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)};
}

class Conv2dFunction : public torch::autograd::Function<Conv2dFunction> {
public:
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &input,
                            const at::Tensor &weight,
                            const std::optional<at::Tensor> &bias,
                            at::IntArrayRef stride, at::IntArrayRef padding,
                            at::IntArrayRef dilation, int64_t groups,
                            double keep, c10::string_view select,
                            bool weightOnly, OptionalString syncGroup) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out = conv2dOp().call(input, weight, bias, stride, padding, dilation,
                            groups, keep, select, weightOnly, syncGroup);
    }
    ctx->save_for_backward({input, weight});
    ctx->saved_data["stride"] = stride.vec();
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    ctx->saved_data["groups"] = groups;
    saveSparsity(ctx, bias, keep, select, weightOnly, syncGroup);
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    variable_list out(11);
    const at::Tensor &dy = grads[0];
    if (!dy.defined())
      return out;
    const variable_list saved = ctx->get_saved_variables();
    const bool hasBias = ctx->saved_data["has_bias"].toBool();
    const std::array<bool, 3> mask = getOutputMask(ctx);
    const std::vector<int64_t> stride = ctx->saved_data["stride"].toIntVector(),
                               padding = ctx->saved_data["padding"].toIntVector(),
                               dilation =
                                   ctx->saved_data["dilation"].toIntVector();
    const std::string select = ctx->saved_data["select"].toStringRef();
    const std::optional<std::string> syncGroup = getSyncGroup(ctx);
    auto [gx, gw, gb] = conv2dBackwardOp().call(
        dy, saved[0], saved[1], hasBias, stride, padding, dilation,
        ctx->saved_data["groups"].toInt(), ctx->saved_data["keep"].toDouble(),
        select, ctx->saved_data["weight_only"].toBool(), mask, syncGroup);
    out[0] = gx;
    out[1] = gw;
    out[2] = gb;
    return out;
  }
};

class LinearFunction : public torch::autograd::Function<LinearFunction> {
public:
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &input,
                            const at::Tensor &weight,
                            const std::optional<at::Tensor> &bias, double keep,
                            c10::string_view select, bool weightOnly,
                            OptionalString syncGroup) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out = linearOp().call(input, weight, bias, keep, select, weightOnly,
                            syncGroup);
    }
    ctx->save_for_backward({input, weight});
    saveSparsity(ctx, bias, keep, select, weightOnly, syncGroup);
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    variable_list out(7);
    const at::Tensor &dy = grads[0];
    if (!dy.defined())
      return out;
    const variable_list saved = ctx->get_saved_variables();
    const bool hasBias = ctx->saved_data["has_bias"].toBool();
    const std::array<bool, 3> mask = getOutputMask(ctx);
    const std::string select = ctx->saved_data["select"].toStringRef();
    const std::optional<std::string> syncGroup = getSyncGroup(ctx);
    auto [gx, gw, gb] = linearBackwardOp().call(
        dy, saved[0], saved[1], hasBias, ctx->saved_data["keep"].toDouble(),
        select, ctx->saved_data["weight_only"].toBool(), mask, syncGroup);
    out[0] = gx;
    out[1] = gw;
    out[2] = gb;
    return out;
  }
};

at::Tensor conv2dAutograd(const at::Tensor &input, const at::Tensor &weight,
                          const std::optional<at::Tensor> &bias,
                          at::IntArrayRef stride, at::IntArrayRef padding,
                          at::IntArrayRef dilation, int64_t groups, double keep,
                          c10::string_view select, bool weightOnly,
                          OptionalString syncGroup) {
  return Conv2dFunction::apply(input, weight, bias, stride, padding, dilation,
                               groups, keep, select, weightOnly, syncGroup);
}

at::Tensor linearAutograd(const at::Tensor &input, const at::Tensor &weight,
                          const std::optional<at::Tensor> &bias, double keep,
                          c10::string_view select, bool weightOnly,
                          OptionalString syncGroup) {
  return LinearFunction::apply(input, weight, bias, keep, select, weightOnly,
                               syncGroup);
}

/// The backward operators' autograd: their results are gradients and are not
/// differentiable. When a graph is being recorded (create_graph=True) they get
/// an Error node, so that asking for their gradient (double backward) fails
/// with a clear message when it is attempted, and only then.
void markNotDifferentiable(const char *op, Tensor3 &grads,
                           const at::Tensor &gradOutput, const at::Tensor &input,
                           const at::Tensor &weight) {
  if (!at::GradMode::is_enabled())
    return;
  if (!gradOutput.requires_grad() && !input.requires_grad() &&
      !weight.requires_grad())
    return;
  std::shared_ptr<torch::autograd::Error> node(
      new torch::autograd::Error(
          std::string(op) + kDoubleBackward,
          torch::autograd::collect_next_edges(gradOutput, input, weight)),
      torch::autograd::deleteNode);
  for (at::Tensor *t : {&std::get<0>(grads), &std::get<1>(grads),
                        &std::get<2>(grads)})
    if (t->defined())
      torch::autograd::set_history(*t, node);
}

Tensor3 conv2dBackwardAutograd(const at::Tensor &gradOutput,
                               const at::Tensor &input,
                               const at::Tensor &weight, bool hasBias,
                               at::IntArrayRef stride, at::IntArrayRef padding,
                               at::IntArrayRef dilation, int64_t groups,
                               double keep, c10::string_view select,
                               bool weightOnly, std::array<bool, 3> outputMask,
                               OptionalString syncGroup) {
  Tensor3 grads;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    grads = conv2dBackwardOp().call(gradOutput, input, weight, hasBias, stride,
                                    padding, dilation, groups, keep, select,
                                    weightOnly, outputMask, syncGroup);
  }
  markNotDifferentiable(kConv, grads, gradOutput, input, weight);
  return grads;
}

Tensor3 linearBackwardAutograd(const at::Tensor &gradOutput,
                               const at::Tensor &input,
                               const at::Tensor &weight, bool hasBias,
                               double keep, c10::string_view select,
                               bool weightOnly, std::array<bool, 3> outputMask,
                               OptionalString syncGroup) {
  Tensor3 grads;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    grads = linearBackwardOp().call(gradOutput, input, weight, hasBias, keep,
                                    select, weightOnly, outputMask, syncGroup);
  }
  markNotDifferentiable(kLinear, grads, gradOutput, input, weight);
  return grads;
}

//===----------------------------------------------------------------------===//
// Autocast
//===----------------------------------------------------------------------===//

/// Under torch.autocast, conv2d and linear run in the autocast dtype as
/// torch.nn.functional's do (both are on autocast's lower-precision list):
/// the floating-point inputs are cast (through autograd, so gradients reach
/// the parameters in their own dtype), then the op runs below autocast.
template <c10::DeviceType device>
at::Tensor conv2dAutocast(const at::Tensor &input, const at::Tensor &weight,
                          const std::optional<at::Tensor> &bias,
                          at::IntArrayRef stride, at::IntArrayRef padding,
                          at::IntArrayRef dilation, int64_t groups, double keep,
                          c10::string_view select, bool weightOnly,
                          OptionalString syncGroup) {
  c10::impl::ExcludeDispatchKeyGuard noAutocast(
      at::autocast::get_autocast_dispatch_key_from_device_type(device));
  const at::ScalarType type = at::autocast::get_autocast_dtype(device);
  return conv2dOp().call(at::autocast::cached_cast(type, input, device),
                         at::autocast::cached_cast(type, weight, device),
                         at::autocast::cached_cast(type, bias, device), stride,
                         padding, dilation, groups, keep, select, weightOnly,
                         syncGroup);
}

template <c10::DeviceType device>
at::Tensor linearAutocast(const at::Tensor &input, const at::Tensor &weight,
                          const std::optional<at::Tensor> &bias, double keep,
                          c10::string_view select, bool weightOnly,
                          OptionalString syncGroup) {
  c10::impl::ExcludeDispatchKeyGuard noAutocast(
      at::autocast::get_autocast_dispatch_key_from_device_type(device));
  const at::ScalarType type = at::autocast::get_autocast_dtype(device);
  return linearOp().call(at::autocast::cached_cast(type, input, device),
                         at::autocast::cached_cast(type, weight, device),
                         at::autocast::cached_cast(type, bias, device), keep,
                         select, weightOnly, syncGroup);
}

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

std::vector<double> statsOp() {
  const Stats s = ssprop::stats();
  return {s.denseBackwardFlops,
          s.actualBackwardFlops,
          static_cast<double>(s.kernelsCompiled),
          static_cast<double>(s.memoryHits),
          static_cast<double>(s.diskHits),
          s.compileMs,
          static_cast<double>(s.tacticTimings),
          static_cast<double>(s.provisionalCalls),
          static_cast<double>(s.rejectedCandidates)};
}

void resetStatsOp() { ssprop::resetStats(); }

/// The names of the tactics that may run this layer on grad_output's device
/// (getConvTactics; the GPU tests run every one).
std::vector<std::string>
conv2dTacticsOp(const at::Tensor &gradOutput, const at::Tensor &input,
                const at::Tensor &weight, at::IntArrayRef stride,
                at::IntArrayRef padding, at::IntArrayRef dilation,
                int64_t groups, double keep, c10::string_view select,
                bool weightOnly) {
  ConvBackwardArgs args = makeConvBackwardArgs(
      gradOutput, input, weight, false, stride, padding, dilation, groups, keep,
      select, weightOnly, {true, true, false}, std::nullopt);
  std::vector<std::string> names;
  for (const Tactic &tactic : getConvTactics(args))
    names.push_back(tactic.getName());
  return names;
}

int64_t keptChannelsOp(double keep, int64_t channels) {
  checkKeep("ssprop::kept_channels", keep);
  TORCH_CHECK(channels >= 1,
              "ssprop::kept_channels: channels must be >= 1, got ", channels);
  return keptChannels(keep, channels);
}

void setTacticOp(std::optional<c10::string_view> name) {
  setForcedTacticName(name ? std::string(*name) : std::string());
}

std::optional<std::string> getTacticOp() {
  std::string name = getForcedTacticName();
  return name.empty() ? std::nullopt : std::optional<std::string>(name);
}

} // namespace
} // namespace ssprop::torch_bridge

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

TORCH_LIBRARY(ssprop, m) {
  m.def("conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride=1, "
        "int[2] padding=0, int[2] dilation=1, int groups=1, float keep=1.0, "
        "str select=\"topk\", bool weight_only=False, "
        "str? sync_group=None) -> Tensor");
  m.def("linear(Tensor input, Tensor weight, Tensor? bias, float keep=1.0, "
        "str select=\"topk\", bool weight_only=False, "
        "str? sync_group=None) -> Tensor");
  m.def("_conv2d_backward(Tensor grad_output, Tensor input, Tensor weight, "
        "bool has_bias, int[2] stride, int[2] padding, int[2] dilation, "
        "int groups, float keep, str select, bool weight_only, "
        "bool[3] output_mask, str? sync_group=None) -> (Tensor, Tensor, "
        "Tensor)");
  m.def("_linear_backward(Tensor grad_output, Tensor input, Tensor weight, "
        "bool has_bias, float keep, str select, bool weight_only, "
        "bool[3] output_mask, str? sync_group=None) -> (Tensor, Tensor, "
        "Tensor)");
  m.def("kept_channels(float keep, int channels) -> int",
        &ssprop::torch_bridge::keptChannelsOp);
  m.def("format_keep(float keep) -> str", &ssprop::formatKeep);
  m.def("set_tactic(str? name) -> ()", &ssprop::torch_bridge::setTacticOp);
  m.def("get_tactic() -> str?", &ssprop::torch_bridge::getTacticOp);
  m.def("stats() -> float[]", &ssprop::torch_bridge::statsOp);
  m.def("reset_stats() -> ()", &ssprop::torch_bridge::resetStatsOp);
  // ssprop.__version__: the version of the library Python loaded.
  m.def("version() -> str", [] { return std::string(ssprop::version()); });
  m.def("_conv2d_tactics(Tensor grad_output, Tensor input, Tensor weight, "
        "int[2] stride, int[2] padding, int[2] dilation, int groups, "
        "float keep, str select, bool weight_only) -> str[]",
        &ssprop::torch_bridge::conv2dTacticsOp);
}

TORCH_LIBRARY_IMPL(ssprop, CompositeExplicitAutograd, m) {
  m.impl("conv2d", &ssprop::torch_bridge::conv2dForward);
  m.impl("linear", &ssprop::torch_bridge::linearForward);
  m.impl("_conv2d_backward", &ssprop::torch_bridge::conv2dBackwardGeneric);
  m.impl("_linear_backward", &ssprop::torch_bridge::linearBackwardGeneric);
}

TORCH_LIBRARY_IMPL(ssprop, Meta, m) {
  m.impl("conv2d", &ssprop::torch_bridge::conv2dForwardMeta);
  m.impl("linear", &ssprop::torch_bridge::linearForwardMeta);
  m.impl("_conv2d_backward", &ssprop::torch_bridge::conv2dBackwardMeta);
  m.impl("_linear_backward", &ssprop::torch_bridge::linearBackwardMeta);
}

TORCH_LIBRARY_IMPL(ssprop, CUDA, m) {
  m.impl("_conv2d_backward",
         &ssprop::torch_bridge::conv2dBackwardOn<
             ssprop::torch_bridge::convBackwardCuda>);
}

TORCH_LIBRARY_IMPL(ssprop, CPU, m) {
  m.impl("_conv2d_backward",
         &ssprop::torch_bridge::conv2dBackwardOn<
             ssprop::torch_bridge::convBackwardCpu>);
}

TORCH_LIBRARY_IMPL(ssprop, Autograd, m) {
  m.impl("conv2d", &ssprop::torch_bridge::conv2dAutograd);
  m.impl("linear", &ssprop::torch_bridge::linearAutograd);
  m.impl("_conv2d_backward", &ssprop::torch_bridge::conv2dBackwardAutograd);
  m.impl("_linear_backward", &ssprop::torch_bridge::linearBackwardAutograd);
}

TORCH_LIBRARY_IMPL(ssprop, AutocastCPU, m) {
  m.impl("conv2d", &ssprop::torch_bridge::conv2dAutocast<c10::DeviceType::CPU>);
  m.impl("linear", &ssprop::torch_bridge::linearAutocast<c10::DeviceType::CPU>);
}

TORCH_LIBRARY_IMPL(ssprop, AutocastCUDA, m) {
  m.impl("conv2d",
         &ssprop::torch_bridge::conv2dAutocast<c10::DeviceType::CUDA>);
  m.impl("linear",
         &ssprop::torch_bridge::linearAutocast<c10::DeviceType::CUDA>);
}

//===----------------------------------------------------------------------===//
// C++ entry points
//===----------------------------------------------------------------------===//

namespace ssprop {

at::Tensor conv2d(const at::Tensor &input, const at::Tensor &weight,
                  const std::optional<at::Tensor> &bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, at::IntArrayRef dilation,
                  int64_t groups, double keep, const std::string &select,
                  bool weightOnly,
                  const std::optional<std::string> &syncGroup) {
  return torch_bridge::conv2dOp().call(input, weight, bias, stride, padding,
                                       dilation, groups, keep, select,
                                       weightOnly, syncGroup);
}

at::Tensor linear(const at::Tensor &input, const at::Tensor &weight,
                  const std::optional<at::Tensor> &bias, double keep,
                  const std::string &select, bool weightOnly,
                  const std::optional<std::string> &syncGroup) {
  return torch_bridge::linearOp().call(input, weight, bias, keep, select,
                                       weightOnly, syncGroup);
}

} // namespace ssprop
