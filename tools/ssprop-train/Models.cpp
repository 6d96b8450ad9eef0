//===- Models.cpp - the paper's CNN and CIFAR-style ResNet-18 -------------===//

#include "Models.h"

#include <stdexcept>

namespace ssprop_train {

namespace {
double gDenseFlops = 0;
} // namespace

double takeDenseConvFlops() {
  double f = gDenseFlops;
  gDenseFlops = 0;
  return f;
}

ConvUnitImpl::ConvUnitImpl(const ConvSpec &spec, const ConvFactory &factory)
    : spec_(spec), conv_(factory(spec)) {
  register_module("conv", conv_.ptr());
}

torch::Tensor ConvUnitImpl::forward(const torch::Tensor &x) {
  torch::Tensor y = conv_.forward(x);
  if (is_training() && torch::GradMode::is_enabled()) {
    const double perChannel = 2.0 * y.size(0) * y.size(2) * y.size(3) * spec_.in *
                              spec_.kernel * spec_.kernel;
    gDenseFlops += perChannel * spec_.out * (x.requires_grad() ? 2 : 1);
  }
  return y;
}

CNNImpl::CNNImpl(int64_t numClasses, int64_t inChannels, int64_t width, int64_t depth,
                 double dropout, const ConvFactory &factory)
    : dropout_(dropout) {
  for (int64_t i = 0; i < depth; ++i) {
    convs_.push_back(register_module(
        "conv" + std::to_string(i),
        ConvUnit(ConvSpec{i == 0 ? inChannels : width, width, 3, 1, 1, true}, factory)));
  }
  if (dropout > 0)
    drop_ = register_module("dropout", torch::nn::Dropout(dropout));
  fc_ = register_module("fc", torch::nn::Linear(width, numClasses));
}

torch::Tensor CNNImpl::forward(torch::Tensor x) {
  for (auto &conv : convs_) {
    x = torch::relu(conv->forward(x));
    if (dropout_ > 0)
      x = drop_->forward(x);
  }
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc_->forward(x);
}

BasicBlockImpl::BasicBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride,
                               double dropout, const ConvFactory &factory)
    : dropout_(dropout) {
  conv1_ = register_module("conv1",
                           ConvUnit(ConvSpec{inPlanes, planes, 3, stride, 1, false}, factory));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2",
                           ConvUnit(ConvSpec{planes, planes, 3, 1, 1, false}, factory));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  if (dropout > 0) {
    drop1_ = register_module("drop1", torch::nn::Dropout(dropout));
    drop2_ = register_module("drop2", torch::nn::Dropout(dropout));
  }
  if (stride != 1 || inPlanes != planes) {
    shortConv_ = register_module(
        "shortcut_conv", ConvUnit(ConvSpec{inPlanes, planes, 1, stride, 0, false}, factory));
    shortBn_ = register_module("shortcut_bn", torch::nn::BatchNorm2d(planes));
    if (dropout > 0)
      shortDrop_ = register_module("shortcut_drop", torch::nn::Dropout(dropout));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor &x) {
  torch::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
  if (dropout_ > 0)
    out = drop1_->forward(out);
  out = bn2_->forward(conv2_->forward(out));
  if (dropout_ > 0)
    out = drop2_->forward(out);
  torch::Tensor shortcut = x;
  if (shortConv_) {
    shortcut = shortBn_->forward(shortConv_->forward(x));
    if (dropout_ > 0)
      shortcut = shortDrop_->forward(shortcut);
  }
  return torch::relu(out + shortcut);
}

ResNetImpl::ResNetImpl(std::vector<int64_t> blocks, int64_t numClasses, int64_t inChannels,
                       int64_t width, double dropout, const ConvFactory &factory)
    : dropout_(dropout) {
  conv1_ = register_module("conv1",
                           ConvUnit(ConvSpec{inChannels, width, 3, 1, 1, false}, factory));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(width));
  if (dropout > 0)
    drop1_ = register_module("drop1", torch::nn::Dropout(dropout));
  layers_ = register_module("layers", torch::nn::Sequential());
  int64_t inPlanes = width;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = width << stage;
    for (int64_t b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      layers_->push_back(BasicBlock(inPlanes, planes, stride, dropout, factory));
      inPlanes = planes;
    }
  }
  linear_ = register_module("linear", torch::nn::Linear(width * 8, numClasses));
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = torch::relu(bn1_->forward(conv1_->forward(x)));
  if (dropout_ > 0)
    x = drop1_->forward(x);
  x = layers_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return linear_->forward(x);
}

Model buildModel(const std::string &name, int64_t width, double dropout,
                 const ConvFactory &factory) {
  Model m;
  if (name == "cnn") {
    CNN net(10, 1, width > 0 ? width : 128, 3, dropout, factory);
    m.module = net.ptr();
    m.forward = [net](const torch::Tensor &x) mutable { return net->forward(x); };
  } else if (name == "resnet18") {
    ResNet net(std::vector<int64_t>{2, 2, 2, 2}, 10, 1, width > 0 ? width : 64, dropout,
               factory);
    m.module = net.ptr();
    m.forward = [net](const torch::Tensor &x) mutable { return net->forward(x); };
  } else {
    throw std::invalid_argument("unknown model '" + name + "': expected cnn or resnet18");
  }
  return m;
}

int64_t zeroConvBiases(torch::nn::Module &model) {
  torch::NoGradGuard noGrad;
  int64_t zeroed = 0;
  for (const auto &m : model.modules()) {
    if (!dynamic_cast<ConvUnitImpl *>(m.get()))
      continue;
    if (torch::Tensor *bias = m->named_parameters().find("conv.bias")) {
      bias->zero_();
      ++zeroed;
    }
  }
  return zeroed;
}

ConvFactory denseConvFactory() {
  return [](const ConvSpec &s) {
    return torch::nn::AnyModule(torch::nn::Conv2d(
        torch::nn::Conv2dOptions(s.in, s.out, s.kernel).stride(s.stride).padding(s.padding).bias(
            s.bias)));
  };
}

} // namespace ssprop_train
