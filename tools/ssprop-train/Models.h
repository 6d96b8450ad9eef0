//===- Models.h - the paper's CNN and CIFAR-style ResNet-18 -----*- C++ -*-===//
//
// The models of python/ssprop_train/models.py in LibTorch. Every convolution is
// made by a ConvFactory, so that the same model code builds the dense baseline
// (torch::nn::Conv2d) and the ssProp model (ssprop::nn::Conv2d).
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TRAIN_MODELS_H
#define SSPROP_TRAIN_MODELS_H

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

namespace ssprop_train {

struct ConvSpec {
  int64_t in, out, kernel, stride, padding;
  bool bias;
};

/// Makes one convolution module whose forward takes and returns a Tensor.
using ConvFactory = std::function<torch::nn::AnyModule(const ConvSpec &)>;

/// The dense backward FLOPs of the convolutions' training forwards so far, as
/// ssprop::stats() counts them (multiply-add = 2; weight and input gradients as
/// autograd will request them; bias sums not counted).
double takeDenseConvFlops();

/// A convolution made by a factory, counting its dense backward FLOPs.
class ConvUnitImpl : public torch::nn::Module {
public:
  ConvUnitImpl(const ConvSpec &spec, const ConvFactory &factory);
  torch::Tensor forward(const torch::Tensor &x);
  const ConvSpec &spec() const { return spec_; }

private:
  ConvSpec spec_;
  torch::nn::AnyModule conv_;
};
TORCH_MODULE(ConvUnit);

class CNNImpl : public torch::nn::Module {
public:
  CNNImpl(int64_t numClasses, int64_t inChannels, int64_t width, int64_t depth,
          double dropout, const ConvFactory &factory);
  torch::Tensor forward(torch::Tensor x);

private:
  std::vector<ConvUnit> convs_;
  torch::nn::Dropout drop_{nullptr};
  torch::nn::Linear fc_{nullptr};
  double dropout_;
};
TORCH_MODULE(CNN);

class BasicBlockImpl : public torch::nn::Module {
public:
  BasicBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride, double dropout,
                 const ConvFactory &factory);
  torch::Tensor forward(const torch::Tensor &x);

private:
  ConvUnit conv1_{nullptr}, conv2_{nullptr}, shortConv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, shortBn_{nullptr};
  torch::nn::Dropout drop1_{nullptr}, drop2_{nullptr}, shortDrop_{nullptr};
  double dropout_;
};
TORCH_MODULE(BasicBlock);

class ResNetImpl : public torch::nn::Module {
public:
  ResNetImpl(std::vector<int64_t> blocks, int64_t numClasses, int64_t inChannels,
             int64_t width, double dropout, const ConvFactory &factory);
  torch::Tensor forward(torch::Tensor x);

private:
  ConvUnit conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Dropout drop1_{nullptr};
  torch::nn::Sequential layers_{nullptr};
  torch::nn::Linear linear_{nullptr};
  double dropout_;
};
TORCH_MODULE(ResNet);

/// "cnn" (width default 128) or "resnet18" (width default 64); width <= 0: the
/// default. The result's forward is reached through the returned AnyModule.
struct Model {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor &)> forward;
};
Model buildModel(const std::string &name, int64_t width, double dropout,
                 const ConvFactory &factory);

/// Sets every convolution's bias to zero (the paper's own layer starts so;
/// torch::nn::Conv2d draws it at random) without drawing random numbers; the
/// number of biases zeroed.
int64_t zeroConvBiases(torch::nn::Module &model);

/// The dense factory: torch::nn::Conv2d.
ConvFactory denseConvFactory();

} // namespace ssprop_train

#endif // SSPROP_TRAIN_MODELS_H
