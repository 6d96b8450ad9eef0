//===- ModulesTest.cpp - ssprop::nn layers and ssprop::convert ------------===//

#include "Oracle.h"

#include "ssprop/Torch/Modules.h"

using namespace ssprop::test;

/// A custom module with a layer registered directly (typed member). Global:
/// its demangled name is part of an expected message.
struct CustomNetImpl : torch::nn::Module {
  CustomNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    body = register_module(
        "body", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 4, 3).padding(1)),
                                      torch::nn::ReLU()));
  }
  torch::Tensor forward(torch::Tensor x) { return body->forward(conv->forward(x)); }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(CustomNet);

/// The LibTorch way to nest Sequentials: a subclass with a plain forward.
struct BlockImpl : torch::nn::SequentialImpl {
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(x); }
};
TORCH_MODULE(Block);

namespace {

torch::nn::Sequential smallModel() {
  torch::nn::Sequential model(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)), torch::nn::ReLU(),
      Block(torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).padding(1).groups(2)),
            torch::nn::ReLU(),
            torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).groups(8).bias(false))),
      torch::nn::AdaptiveAvgPool2d(2), torch::nn::Flatten(), torch::nn::Linear(32, 32),
      torch::nn::ReLU());
  model->push_back("head", Block(torch::nn::Linear(32, 10)));
  return model;
}

} // namespace

TEST(Modules, Conv2dAtKeepOneEqualsTorchConv2d) {
  torch::manual_seed(0);
  torch::nn::Conv2d dense(torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).dilation(2).groups(2));
  dense->to(torch::kDouble);
  ssprop::nn::Conv2d mine(ssprop::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).dilation(2).groups(2));
  mine->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    mine->weight.copy_(dense->weight);
    mine->bias.copy_(dense->bias);
  }
  torch::Tensor x = torch::randn({3, 4, 11, 10}, torch::kDouble);
  torch::Tensor y1 = dense->forward(x), y2 = mine->forward(x);
  EXPECT_TRUE(torch::equal(y1, y2));
  torch::Tensor dy = torch::randn_like(y1);
  y1.backward(dy);
  y2.backward(dy);
  EXPECT_TRUE(torch::equal(dense->weight.grad(), mine->weight.grad()));
  EXPECT_TRUE(torch::equal(dense->bias.grad(), mine->bias.grad()));
  // Parameters like torch's: names, shapes, initialisation bounds.
  auto params = mine->named_parameters();
  EXPECT_TRUE(params.contains("weight"));
  EXPECT_TRUE(params.contains("bias"));
  EXPECT_EQ(mine->weight.sizes(), dense->weight.sizes());
  const double bound = 1.0 / std::sqrt(2.0 * 9.0);
  EXPECT_LE(ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(4, 6, 3).groups(2))->bias.abs().max().item<double>(), bound);
}

TEST(Modules, Conv2dSparseMatchesOracle) {
  torch::manual_seed(1);
  ssprop::nn::Conv2d conv(ssprop::nn::Conv2dOptions(4, 8, 3).padding(1).keep(0.25));
  conv->to(torch::kDouble);
  torch::Tensor x = torch::randn({2, 4, 6, 6}, torch::kDouble).requires_grad_(true);
  torch::Tensor y = conv->forward(x);
  torch::Tensor dy = torch::randn_like(y);
  y.backward(dy);
  ConvCase c;
  c.cin = 4;
  c.cout = 8;
  c.padding = 1;
  Grads want = oracleConvGrads(x, conv->weight, conv->bias, c, dy,
                               topkMask(dy, 0.25, {0, 2, 3}), false);
  expectClose(x.grad(), want.input, "grad_input");
  expectClose(conv->weight.grad(), want.weight, "grad_weight");
  expectClose(conv->bias.grad(), want.bias, "grad_bias");
  conv->set_keep(0.5);
  EXPECT_EQ(conv->options.keep(), 0.5);
  std::ostringstream s;
  conv->pretty_print(s);
  EXPECT_EQ(s.str(), "ssprop::nn::Conv2d(4, 8, kernel_size=[3, 3], stride=[1, 1], "
                     "padding=[1, 1], keep=0.5, select=topk)");
}

TEST(Modules, LinearAtKeepOneEqualsTorchLinear) {
  torch::manual_seed(2);
  torch::nn::Linear dense(7, 5);
  dense->to(torch::kDouble);
  ssprop::nn::Linear mine(*dense, 1.0);
  EXPECT_EQ(mine->weight.data_ptr(), dense->weight.data_ptr());
  torch::Tensor x = torch::randn({4, 3, 7}, torch::kDouble);
  torch::Tensor y = mine->forward(x);
  EXPECT_TRUE(torch::equal(y, dense->forward(x)));
  std::ostringstream s;
  mine->pretty_print(s);
  EXPECT_EQ(s.str(), "ssprop::nn::Linear(in_features=7, out_features=5, bias=true, keep=1, select=topk)");
}

TEST(Convert, SwapsEveryLayerKeepingWeights) {
  torch::manual_seed(3);
  torch::nn::Sequential model = smallModel();
  model->to(torch::kDouble);
  std::vector<torch::Tensor> before;
  for (const auto &p : model->parameters())
    before.push_back(p);
  torch::Tensor x = torch::randn({2, 3, 6, 6}, torch::kDouble);
  torch::Tensor yDense = model->forward(x);

  ssprop::ConvertResult r = ssprop::convert(*model, ssprop::ConvertOptions().keep(0.5).select("topk"));
  EXPECT_EQ(r.converted, (std::vector<std::string>{"0", "2.0", "2.2", "5", "head.0"}));
  EXPECT_TRUE(r.skipped.empty());
  // No dense layer is left, registered or reached by forward.
  int64_t convs = 0, linears = 0;
  for (const auto &m : model->modules(/*include_self=*/false)) {
    EXPECT_EQ(dynamic_cast<torch::nn::Conv2dImpl *>(m.get()), nullptr) << m->name();
    EXPECT_EQ(dynamic_cast<torch::nn::LinearImpl *>(m.get()), nullptr) << m->name();
    convs += dynamic_cast<ssprop::nn::Conv2dImpl *>(m.get()) != nullptr;
    linears += dynamic_cast<ssprop::nn::LinearImpl *>(m.get()) != nullptr;
  }
  EXPECT_EQ(convs, 3);
  EXPECT_EQ(linears, 2);
  EXPECT_EQ((*model)[0]->name(), "ssprop::nn::Conv2dImpl");
  EXPECT_EQ(model->ptr<BlockImpl>(2)->ptr(2)->name(), "ssprop::nn::Conv2dImpl");
  // Same parameter tensors, in the same order: optimizers keep working.
  auto after = model->parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_TRUE(after[i].is_same(before[i])) << i;
  // The forward is unchanged; the backward is ssProp's.
  torch::Tensor y = model->forward(x);
  EXPECT_TRUE(torch::equal(y, yDense));
  ssprop::resetStats();
  y.sum().backward();
  ssprop::Stats s = ssprop::stats();
  EXPECT_GT(s.denseBackwardFlops, 0);
  EXPECT_LT(s.actualBackwardFlops, s.denseBackwardFlops);
  // A second convert updates the settings of the ssprop layers.
  ssprop::convert(*model, ssprop::ConvertOptions().keep(0.2).select("random"));
  auto *first = dynamic_cast<ssprop::nn::Conv2dImpl *>((*model)[0].get());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->options.keep(), 0.2);
  EXPECT_EQ(first->options.select(), "random");
  // It trains: a few SGD steps on a fixed batch lower the loss.
  torch::optim::SGD opt(model->parameters(), 0.05);
  torch::Tensor target = torch::randn({2, 10}, torch::kDouble);
  double firstLoss = 0, lastLoss = 0;
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    torch::Tensor loss = (model->forward(x) - target).pow(2).mean();
    loss.backward();
    opt.step();
    (step == 0 ? firstLoss : lastLoss) = loss.item<double>();
  }
  EXPECT_TRUE(std::isfinite(lastLoss));
  EXPECT_LT(lastLoss, firstLoss);
}

TEST(Convert, CustomModulesAreReportedNotSilentlyMissed) {
  CustomNet net;
  try {
    ssprop::convert(*net, ssprop::ConvertOptions().keep(0.5));
    FAIL() << "no error";
  } catch (const c10::Error &e) {
    EXPECT_EQ(e.msg(),
              "ssprop::convert: cannot swap 'conv' (torch::nn::Conv2dImpl) in place: its "
              "parent (the model) is a CustomNetImpl, which reaches it through a typed "
              "member or a cast that convert cannot re-point (only torch::nn::Sequential "
              "calls its layers through the registry). Build that layer as "
              "ssprop::nn::Conv2d / ssprop::nn::Linear, hold it in a "
              "torch::nn::Sequential, or pass ConvertOptions().strict(false) to leave it "
              "dense");
  }
  ssprop::ConvertResult r = ssprop::convert(*net, ssprop::ConvertOptions().keep(0.5).strict(false));
  EXPECT_EQ(r.skipped, std::vector<std::string>{"conv"});
  EXPECT_EQ(r.converted, std::vector<std::string>{"body.0"});
  EXPECT_NE(dynamic_cast<ssprop::nn::Conv2dImpl *>(net->body[0].get()), nullptr);
  EXPECT_EQ(net->forward(torch::randn({1, 3, 8, 8})).sizes(), (std::vector<int64_t>{1, 4, 6, 6}));
  // Nor can the layers of a ModuleList (its users cast them to the dense type).
  torch::nn::Sequential withList(torch::nn::Linear(2, 2));
  torch::nn::ModuleList list(torch::nn::Linear(2, 2));
  withList->register_module("list", list);
  try {
    ssprop::convert(*withList);
    FAIL() << "no error";
  } catch (const c10::Error &e) {
    EXPECT_NE(e.msg().find("cannot swap 'list.0' (torch::nn::LinearImpl) in place: its parent "
                           "'list' is a torch::nn::ModuleListImpl"),
              std::string::npos)
        << e.msg();
  }
  // The model itself cannot be swapped either.
  torch::nn::Conv2d lone(torch::nn::Conv2dOptions(1, 1, 1));
  EXPECT_THROW(ssprop::convert(*lone), c10::Error);
  EXPECT_EQ(ssprop::convert(*lone, ssprop::ConvertOptions().strict(false)).skipped,
            std::vector<std::string>{""});
}

TEST(Convert, SamePaddingAndCloning) {
  torch::nn::Sequential s(torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3).padding(torch::kSame)),
                          torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 3, 3).padding(torch::kValid)));
  torch::Tensor x = torch::randn({1, 2, 5, 5});
  torch::Tensor want = s->forward(x);
  ssprop::convert(*s, ssprop::ConvertOptions().keep(0.5));
  EXPECT_TRUE(torch::allclose(s->forward(x), want));
  auto copy = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(s->clone());
  ASSERT_NE(copy, nullptr);
  auto *c0 = dynamic_cast<ssprop::nn::Conv2dImpl *>((*copy)[0].get());
  ASSERT_NE(c0, nullptr);
  EXPECT_EQ(c0->options.keep(), 0.5);
  EXPECT_FALSE(c0->weight.is_same(s->ptr<ssprop::nn::Conv2dImpl>(0)->weight));
  EXPECT_TRUE(torch::allclose(copy->forward(x), want));
}
