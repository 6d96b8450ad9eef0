//===- Modules.cpp - ssprop::nn::Conv2d / Linear and ssprop::convert ------===//

#include "Internal.h"
#include "NetworkLayers.h"

#include "ssprop/Torch/Modules.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/container/sequential.h>

#include <cmath>

namespace ssprop::nn {
namespace {

using torch_bridge::checkKeepAndSelect;

void resetLikeTorch(at::Tensor &weight, at::Tensor &bias, int64_t fanIn) {
  // torch.nn's initialisation: kaiming_uniform_(a = sqrt(5)), bias uniform in
  // +-1/sqrt(fan_in).
  torch::NoGradGuard noGrad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined() && fanIn > 0) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

std::array<int64_t, 2>
densePadding(const torch::nn::detail::ConvNdOptions<2> &o) {
  const char *w = "ssprop::nn::Conv2d";
  TORCH_CHECK(std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()),
              w, ": padding_mode must be zeros, got ",
              torch::enumtype::get_enum_name(o.padding_mode()),
              " (pad the input with torch::nn::functional::pad before the "
              "layer instead)");
  if (const auto *p = std::get_if<torch::ExpandingArray<2>>(&o.padding()))
    return {(**p)[0], (**p)[1]};
  if (std::holds_alternative<torch::enumtype::kValid>(o.padding()))
    return {0, 0};
  std::array<int64_t, 2> out{};
  for (int d = 0; d < 2; ++d) {
    const int64_t total = (*o.dilation())[d] * ((*o.kernel_size())[d] - 1);
    TORCH_CHECK(total % 2 == 0, w,
                ": padding \"same\" would pad asymmetrically in dimension ",
                d, " (dilation ", (*o.dilation())[d], ", kernel size ",
                (*o.kernel_size())[d],
                "); only symmetric zeros padding is supported");
    out[d] = total / 2;
  }
  return out;
}

/// Registers a dense layer's weight and bias (the same tensors, not copies)
/// as `self`'s and takes over its training mode.
void adoptParameters(torch::nn::Module &self, at::Tensor &weight,
                     at::Tensor &bias, const torch::nn::Module &dense,
                     const at::Tensor &denseWeight,
                     const at::Tensor &denseBias) {
  weight = self.register_parameter("weight", denseWeight,
                                   denseWeight.requires_grad());
  if (denseBias.defined())
    bias = self.register_parameter("bias", denseBias, denseBias.requires_grad());
  else
    bias = self.register_parameter("bias", at::Tensor(),
                                   /*requires_grad=*/false);
  self.train(dense.is_training());
}

} // namespace

//===----------------------------------------------------------------------===//
// Conv2d
//===----------------------------------------------------------------------===//

Conv2dImpl::Conv2dImpl(Conv2dOptions options_) : options(std::move(options_)) {
  checkKeepAndSelect("ssprop::nn::Conv2d", options.keep(), options.select());
  reset();
}

Conv2dImpl::Conv2dImpl(const torch::nn::Conv2dImpl &dense, double keep,
                       std::string select, bool weightOnly)
    : options(dense.options.in_channels(), dense.options.out_channels(),
              dense.options.kernel_size()) {
  const std::array<int64_t, 2> padding = densePadding(dense.options);
  options.stride(dense.options.stride())
      .padding(torch::ExpandingArray<2>({padding[0], padding[1]}))
      .dilation(dense.options.dilation())
      .groups(dense.options.groups())
      .bias(dense.options.bias())
      .keep(keep)
      .select(std::move(select))
      .weight_only(weightOnly);
  checkKeepAndSelect("ssprop::nn::Conv2d", options.keep(), options.select());
  adoptParameters(*this, weight, bias, dense, dense.weight, dense.bias);
}

void Conv2dImpl::reset() {
  const char *w = "ssprop::nn::Conv2d";
  TORCH_CHECK(options.groups() >= 1, w, ": groups must be >= 1, got ",
              options.groups());
  TORCH_CHECK(options.in_channels() % options.groups() == 0, w,
              ": in_channels (", options.in_channels(),
              ") must be divisible by groups (", options.groups(), ")");
  TORCH_CHECK(options.out_channels() % options.groups() == 0, w,
              ": out_channels (", options.out_channels(),
              ") must be divisible by groups (", options.groups(), ")");
  weight = register_parameter(
      "weight", torch::empty({options.out_channels(),
                              options.in_channels() / options.groups(),
                              (*options.kernel_size())[0],
                              (*options.kernel_size())[1]}));
  if (options.bias())
    bias = register_parameter("bias", torch::empty({options.out_channels()}));
  else
    bias = register_parameter("bias", at::Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  resetLikeTorch(weight, bias,
                 options.in_channels() / options.groups() *
                     (*options.kernel_size())[0] * (*options.kernel_size())[1]);
}

void Conv2dImpl::pretty_print(std::ostream &stream) const {
  stream << "ssprop::nn::Conv2d(" << options.in_channels() << ", "
         << options.out_channels()
         << ", kernel_size=" << options.kernel_size()
         << ", stride=" << options.stride();
  if (*options.padding() != *torch::ExpandingArray<2>(0))
    stream << ", padding=" << options.padding();
  if (*options.dilation() != *torch::ExpandingArray<2>(1))
    stream << ", dilation=" << options.dilation();
  if (options.groups() != 1)
    stream << ", groups=" << options.groups();
  if (!options.bias())
    stream << ", bias=false";
  stream << ", keep=" << options.keep() << ", select=" << options.select();
  if (options.weight_only())
    stream << ", weight_only=true";
  stream << ")";
}

at::Tensor Conv2dImpl::forward(const at::Tensor &input) {
  at::Tensor output = ssprop::conv2d(
      input, weight,
      bias.defined() ? std::optional<at::Tensor>(bias) : std::nullopt,
      *options.stride(), *options.padding(), *options.dilation(),
      options.groups(), options.keep(), options.select(), options.weight_only(),
      options.sync_group());
  torch_bridge::recordConvCall(*this, input);
  return output;
}

void Conv2dImpl::set_keep(double keep) {
  checkKeepAndSelect("ssprop::nn::Conv2d", keep, options.select());
  options.keep(keep);
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

LinearImpl::LinearImpl(LinearOptions options_) : options(std::move(options_)) {
  checkKeepAndSelect("ssprop::nn::Linear", options.keep(), options.select());
  reset();
}

LinearImpl::LinearImpl(const torch::nn::LinearImpl &dense, double keep,
                       std::string select, bool weightOnly)
    : options(dense.options.in_features(), dense.options.out_features()) {
  options.bias(dense.options.bias())
      .keep(keep)
      .select(std::move(select))
      .weight_only(weightOnly);
  checkKeepAndSelect("ssprop::nn::Linear", options.keep(), options.select());
  adoptParameters(*this, weight, bias, dense, dense.weight, dense.bias);
}

void LinearImpl::reset() {
  weight = register_parameter(
      "weight", torch::empty({options.out_features(), options.in_features()}));
  if (options.bias())
    bias = register_parameter("bias", torch::empty({options.out_features()}));
  else
    bias = register_parameter("bias", at::Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  resetLikeTorch(weight, bias, options.in_features());
}

void LinearImpl::pretty_print(std::ostream &stream) const {
  stream << "ssprop::nn::Linear(in_features=" << options.in_features()
         << ", out_features=" << options.out_features()
         << ", bias=" << (options.bias() ? "true" : "false")
         << ", keep=" << options.keep() << ", select=" << options.select();
  if (options.weight_only())
    stream << ", weight_only=true";
  stream << ")";
}

at::Tensor LinearImpl::forward(const at::Tensor &input) {
  return ssprop::linear(input, weight,
                        bias.defined() ? std::optional<at::Tensor>(bias)
                                       : std::nullopt,
                        options.keep(), options.select(), options.weight_only(),
                        options.sync_group());
}

void LinearImpl::set_keep(double keep) {
  checkKeepAndSelect("ssprop::nn::Linear", keep, options.select());
  options.keep(keep);
}

} // namespace ssprop::nn

//===----------------------------------------------------------------------===//
// convert
//===----------------------------------------------------------------------===//

namespace ssprop {
namespace {

struct Replacement {
  std::shared_ptr<nn::Conv2dImpl> conv;
  std::shared_ptr<nn::LinearImpl> linear;
  std::shared_ptr<torch::nn::Module> module() const {
    if (conv)
      return conv;
    return linear;
  }
  torch::nn::AnyModule any() const {
    if (conv)
      return torch::nn::AnyModule(conv);
    return torch::nn::AnyModule(linear);
  }
};

/// True (after updating it) for an ssprop layer already in the model.
bool updateExisting(torch::nn::Module &m, const ConvertOptions &o) {
  if (auto *c = dynamic_cast<nn::Conv2dImpl *>(&m)) {
    torch_bridge::checkKeepAndSelect("ssprop::convert", o.keep(), o.select());
    c->options.keep(o.keep()).select(o.select()).weight_only(o.weight_only());
    return true;
  }
  if (auto *l = dynamic_cast<nn::LinearImpl *>(&m)) {
    torch_bridge::checkKeepAndSelect("ssprop::convert", o.keep(), o.select());
    l->options.keep(o.keep()).select(o.select()).weight_only(o.weight_only());
    return true;
  }
  return false;
}

std::optional<Replacement> replacementFor(torch::nn::Module &m,
                                          const ConvertOptions &o,
                                          const std::string &path) {
  try {
    if (auto *c = dynamic_cast<torch::nn::Conv2dImpl *>(&m))
      return Replacement{std::make_shared<nn::Conv2dImpl>(*c, o.keep(), o.select(),
                                                          o.weight_only()),
                         nullptr};
    if (auto *l = dynamic_cast<torch::nn::LinearImpl *>(&m))
      return Replacement{nullptr,
                         std::make_shared<nn::LinearImpl>(*l, o.keep(), o.select(),
                                                          o.weight_only())};
  } catch (const c10::Error &e) {
    TORCH_CHECK(false, "ssprop::convert: cannot convert '", path, "': ",
                e.msg());
  }
  return std::nullopt;
}

bool isDenseLayer(const torch::nn::Module &m) {
  return dynamic_cast<const torch::nn::Conv2dImpl *>(&m) != nullptr ||
         dynamic_cast<const torch::nn::LinearImpl *>(&m) != nullptr;
}

void convertChildren(torch::nn::Module &parent, const std::string &prefix,
                     const ConvertOptions &o, ConvertResult &result) {
  // Only a Sequential calls its children through the registry (AnyModule);
  // every other parent holds typed members (or its users cast its children to
  // their dense type, as with ModuleList / ModuleDict).
  auto *seq = dynamic_cast<torch::nn::SequentialImpl *>(&parent);
  for (const auto &item : parent.named_children()) {
    const std::string &name = item.key();
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    const std::shared_ptr<torch::nn::Module> &child = item.value();
    if (updateExisting(*child, o)) {
      result.converted.push_back(path);
      continue;
    }
    if (!isDenseLayer(*child)) {
      convertChildren(*child, path, o, result);
      continue;
    }
    if (!seq) {
      TORCH_CHECK(!o.strict(), "ssprop::convert: cannot swap '", path, "' (",
                  child->name(), ") in place: its parent ",
                  prefix.empty() ? std::string("(the model)") : "'" + prefix + "'",
                  " is a ", parent.name(),
                  ", which reaches it through a typed member or a cast that "
                  "convert cannot re-point (only torch::nn::Sequential calls its "
                  "layers through the registry). Build that layer as "
                  "ssprop::nn::Conv2d / ssprop::nn::Linear, hold it in a "
                  "torch::nn::Sequential, or pass ConvertOptions().strict(false) "
                  "to leave it dense");
      result.skipped.push_back(path);
      continue;
    }
    Replacement r = *replacementFor(*child, o, path);
    bool found = false;
    for (auto it = seq->begin(); it != seq->end(); ++it)
      if (it->ptr().get() == child.get()) {
        *it = r.any();
        found = true;
        break;
      }
    TORCH_CHECK(found, "ssprop::convert: '", path,
                "' is registered in a Sequential but not among its modules");
    parent.replace_module(name, r.module());
    result.converted.push_back(path);
  }
}

} // namespace

ConvertResult convert(torch::nn::Module &module, const ConvertOptions &options) {
  torch_bridge::checkKeepAndSelect("ssprop::convert", options.keep(),
                                   options.select());
  ConvertResult result;
  if (updateExisting(module, options)) {
    result.converted.push_back("");
    return result;
  }
  if (isDenseLayer(module)) {
    TORCH_CHECK(!options.strict(), "ssprop::convert: the model itself is a ",
                module.name(),
                ", which cannot be swapped in place: construct "
                "ssprop::nn::Conv2d(dense, keep) / ssprop::nn::Linear(dense, "
                "keep) from it instead");
    result.skipped.push_back("");
    return result;
  }
  convertChildren(module, "", options, result);
  return result;
}

} // namespace ssprop

namespace ssprop {

int64_t distributed(torch::nn::Module &module,
                    const std::optional<std::string> &groupName) {
  int64_t layers = 0;
  auto visit = [&](torch::nn::Module &m) {
    if (auto *conv = dynamic_cast<nn::Conv2dImpl *>(&m)) {
      conv->options.sync_group(groupName);
      ++layers;
    } else if (auto *linear = dynamic_cast<nn::LinearImpl *>(&m)) {
      linear->options.sync_group(groupName);
      ++layers;
    }
  };
  visit(module);
  for (const auto &child : module.modules(/*include_self=*/false))
    visit(*child);
  TORCH_CHECK(layers > 0, "ssprop::distributed: the module has no ssprop "
                          "layer (convert it first)");
  return layers;
}

} // namespace ssprop
