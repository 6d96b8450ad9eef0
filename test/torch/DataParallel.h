//===- DataParallel.h - the model of the data-parallel test ------*- C++
//-*-===//
//
// What the workers (DataParallelWorker.cpp) and the test comparing them with
// one process (DataParallelTest.cpp) share: a small ssProp network with a
// first layer, a strided layer, a grouped 1x1 layer and a linear head, its
// batch, and the gradients of one step.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_TORCH_DATAPARALLEL_H
#define SSPROP_TEST_TORCH_DATAPARALLEL_H

#include "ssprop/Torch/Modules.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <string>
#include <utility>
#include <vector>

namespace ssprop::test {

constexpr int64_t kDataParallelBatch = 16;
constexpr double kDataParallelKeep = 0.5;

inline torch::nn::Sequential makeDataParallelModel(const std::string &select) {
  torch::manual_seed(0);
  auto conv = [&](int64_t in, int64_t out, int64_t kernel) {
    return nn::Conv2dOptions(in, out, kernel)
        .keep(kDataParallelKeep)
        .select(select);
  };
  return torch::nn::Sequential(
      nn::Conv2d(conv(1, 8, 3).padding(1)), torch::nn::ReLU(),
      nn::Conv2d(conv(8, 12, 3).stride(2).padding(1)), torch::nn::ReLU(),
      nn::Conv2d(conv(12, 6, 1).groups(2).bias(false)), torch::nn::ReLU(),
      torch::nn::AdaptiveAvgPool2d(1), torch::nn::Flatten(),
      nn::Linear(
          nn::LinearOptions(6, 10).keep(kDataParallelKeep).select(select)));
}

/// The whole batch: images and labels.
inline std::pair<at::Tensor, at::Tensor> makeDataParallelBatch() {
  at::Generator generator = at::detail::createCPUGenerator(1);
  return {at::randn({kDataParallelBatch, 1, 10, 10}, generator),
          at::randint(0, 10, {kDataParallelBatch}, generator)};
}

/// One backward of the mean cross-entropy of `images`; the gradients of the
/// parameters in registration order.
inline std::vector<at::Tensor> stepGradients(torch::nn::Sequential &model,
                                             const at::Tensor &images,
                                             const at::Tensor &labels) {
  torch::nn::functional::cross_entropy(model->forward(images), labels)
      .backward();
  std::vector<at::Tensor> grads;
  for (const at::Tensor &parameter : model->parameters())
    grads.push_back(parameter.grad().clone());
  return grads;
}

} // namespace ssprop::test

#endif // SSPROP_TEST_TORCH_DATAPARALLEL_H
