// One SGD step of an ssprop::nn::Conv2d at keep 0.5, checked against the
// oracle: plain at::conv2d autograd with the unselected channels of the
// output gradient zeroed. Prints "trained one step" and exits 0 when the
// gradients and the updated weights match.

#include "ssprop/Core/Version.h"
#include "ssprop/Torch/Modules.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstring>

namespace {

bool expectClose(const char *what, const at::Tensor &actual,
                 const at::Tensor &expected) {
  if (torch::allclose(actual, expected, 1e-5, 1e-6))
    return true;
  std::fprintf(stderr, "%s differs from the oracle by up to %g\n", what,
               (actual - expected).abs().max().item<double>());
  return false;
}

} // namespace

int main() {
  if (std::strcmp(ssprop::version(), SSPROP_PACKAGE_VERSION) != 0) {
    std::fprintf(stderr, "libssprop_core is %s, the CMake package %s\n",
                 ssprop::version(), SSPROP_PACKAGE_VERSION);
    return 1;
  }
  torch::manual_seed(0);
  const int64_t channels = 8;
  ssprop::nn::Conv2d conv(
      ssprop::nn::Conv2dOptions(3, channels, 3).padding(1).keep(0.5));
  at::Tensor x = torch::randn({4, 3, 8, 8});
  // Channel c of the output gradient scaled by c + 1: the top 4 are 4..7.
  at::Tensor scale = torch::arange(1, channels + 1).to(torch::kFloat);
  at::Tensor dy = torch::randn({4, channels, 8, 8}) * scale.view({1, -1, 1, 1});
  at::Tensor kept = (torch::arange(channels) >= channels / 2).to(torch::kFloat);

  at::Tensor w = conv->weight.detach().clone().requires_grad_(true);
  at::Tensor b = conv->bias.detach().clone().requires_grad_(true);
  at::Tensor xr = x.clone().requires_grad_(true);
  at::conv2d(xr, w, b, 1, 1).backward(dy * kept.view({1, -1, 1, 1}));

  at::Tensor xs = x.clone().requires_grad_(true);
  torch::optim::SGD sgd(conv->parameters(), torch::optim::SGDOptions(0.1));
  sgd.zero_grad();
  conv->forward(xs).backward(dy);
  bool ok = expectClose("dW", conv->weight.grad(), w.grad()) &&
            expectClose("db", conv->bias.grad(), b.grad()) &&
            expectClose("dx", xs.grad(), xr.grad());
  sgd.step();
  ok = ok && expectClose("W after the step", conv->weight,
                         w.detach() - 0.1 * w.grad());
  if (!ok)
    return 1;
  std::printf("trained one step (ssprop %s)\n", ssprop::version());
  return 0;
}
