//===- ExportIRTest.cpp - ssprop::recordLayers and ssprop::exportIR -------===//
//
// The recorded layers of every kind of convolution against shapes computed
// here by the output-size formula; the IR against
// Inputs/variants_backward.mlir, which test/python/test_export.py compares
// Python's export of the same network with.
//
//===----------------------------------------------------------------------===//

#include "ExpectMessage.h"

#include "ssprop/Torch/ExportIR.h"
#include "ssprop/Torch/Modules.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using ssprop::ExportedLayer;
using ssprop::ExportOptions;
using ssprop::test::expectMessage;
namespace snn = ssprop::nn;

/// Every kind of convolution the IR describes (test_export.py's Variants
/// without its padding modes, which LibTorch's ssprop layer lacks).
struct VariantsImpl : torch::nn::Module {
  VariantsImpl() {
    add("stem", snn::Conv2dOptions(3, 8, 3).padding(1));
    add("grouped", snn::Conv2dOptions(8, 12, 3).stride(2).padding(1).groups(4).bias(false));
    add("depthwise", snn::Conv2dOptions(12, 12, 5).padding(2).groups(12));
    add("dilated", snn::Conv2dOptions(12, 16, 3).padding(2).dilation(2).bias(false).select("random").weight_only(true));
    add("pointwise", snn::Conv2dOptions(16, 6, 1).keep(0.5));
    add("tall", snn::Conv2dOptions(6, 5, {3, 1}).stride({2, 1}).padding({0, 1}));
    head = register_module("head", torch::nn::Linear(5, 2));
  }
  void add(const std::string &name, const snn::Conv2dOptions &options) {
    convs.push_back(register_module(name, snn::Conv2d(options)));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (snn::Conv2d &conv : convs)
      x = torch::relu(conv->forward(x));
    return head->forward(x.mean({2, 3}));
  }
  std::vector<snn::Conv2d> convs;
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(Variants);

namespace {

constexpr int64_t N = 2, H = 17, W = 15;

int64_t outSize(int64_t size, int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1) {
  return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

torch::Tensor images() { return torch::randn({N, 3, H, W}).contiguous(torch::MemoryFormat::ChannelsLast); }

/// A recorded layer, as the test compares it.
struct Row {
  std::string name;
  std::array<int64_t, 4> input, weight;
  std::array<int64_t, 2> output, stride, padding, dilation;
  int64_t groups;
  bool hasBias, needInputGrad;
  bool operator==(const Row &o) const {
    return std::tie(name, input, weight, output, stride, padding, dilation, groups, hasBias, needInputGrad) ==
           std::tie(o.name, o.input, o.weight, o.output, o.stride, o.padding, o.dilation, o.groups, o.hasBias,
                    o.needInputGrad);
  }
};

std::ostream &operator<<(std::ostream &os, const Row &r) {
  return os << r.name << " " << c10::IntArrayRef(r.input) << " -> " << c10::IntArrayRef(r.output);
}

Row rowOf(const ExportedLayer &l) {
  const ssprop::ConvLayerSpec &s = l.spec;
  return {l.name,    s.inputShape, s.weightShape, {s.getOutputSize(0), s.getOutputSize(1)}, s.stride,
          s.padding, s.dilation,   s.groups,      l.hasBias,                                 s.needInputGrad};
}

/// The layers in forward order, by the formula.
std::vector<Row> expectedRows() {
  const int64_t h2 = outSize(H, 3, 2, 1), w2 = outSize(W, 3, 2, 1);
  const int64_t h6 = outSize(h2, 3, 2, 0), w6 = outSize(w2, 1, 1, 1);
  return {
      {"stem", {N, 3, H, W}, {8, 3, 3, 3}, {H, W}, {1, 1}, {1, 1}, {1, 1}, 1, true, false},
      {"grouped", {N, 8, H, W}, {12, 2, 3, 3}, {h2, w2}, {2, 2}, {1, 1}, {1, 1}, 4, false, true},
      {"depthwise", {N, 12, h2, w2}, {12, 1, 5, 5}, {h2, w2}, {1, 1}, {2, 2}, {1, 1}, 12, true, true},
      {"dilated", {N, 12, h2, w2}, {16, 12, 3, 3}, {outSize(h2, 3, 1, 2, 2), outSize(w2, 3, 1, 2, 2)}, {1, 1},
       {2, 2}, {2, 2}, 1, false, true},
      {"pointwise", {N, 16, h2, w2}, {6, 16, 1, 1}, {h2, w2}, {1, 1}, {0, 0}, {1, 1}, 1, true, true},
      {"tall", {N, 6, h2, w2}, {5, 6, 3, 1}, {h6, w6}, {2, 1}, {0, 1}, {1, 1}, 1, true, true},
  };
}

std::vector<Row> recordedRows(const std::vector<ExportedLayer> &layers) {
  std::vector<Row> rows;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it)
    rows.push_back(rowOf(*it));
  return rows;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST(ExportIR, RecordsEveryVariantLastFirst) {
  Variants model;
  torch::Tensor x = images();
  std::vector<ExportedLayer> layers = ssprop::recordLayers(*model, [&] { model->forward(x); });
  EXPECT_EQ(recordedRows(layers), expectedRows());
  const ExportedLayer &dilated = layers[2], &pointwise = layers[1];
  EXPECT_EQ(dilated.spec.select, ssprop::Select::random);
  EXPECT_TRUE(dilated.spec.weightOnly);
  EXPECT_EQ(pointwise.keeps, std::vector<double>{0.5});
  for (const ExportedLayer &layer : layers)
    EXPECT_EQ(layer.spec.dtype, ssprop::ElementType::f32);
}

TEST(ExportIR, MatchesPythonsExportOfTheSameNetwork) {
  Variants model;
  torch::Tensor x = images();
  ExportOptions options;
  options.keeps = {0.25, 1.0, 0.5};
  const std::string ir = ssprop::exportIR(*model, [&] { model->forward(x); }, options, "variants");
  EXPECT_EQ(ir, readFile(SSPROP_TEST_INPUTS "/variants_backward.mlir"))
      << "regenerate test/torch/Inputs/variants_backward.mlir from:\n"
      << ir;
}

TEST(ExportIR, SchedulerKeepsForTheLayersItDrives) {
  Variants model;
  torch::Tensor x = images();
  ssprop::DropScheduler scheduler({model->convs[0].ptr(), model->convs[4].ptr()},
                                  ssprop::DropSchedulerOptions("linear", 1.0).min_keep(0.2).total_epochs(5));
  ExportOptions options;
  options.scheduler = &scheduler;
  std::vector<ExportedLayer> layers = ssprop::recordLayers(*model, [&] { model->forward(x); }, options);
  // Keeps 1.0, 0.8, 0.6, 0.4, 0.2: k = 8, 6, 4, 3, 1 of stem's 8 channels, 6, 4, 3, 2, 1 of pointwise's 6.
  ASSERT_EQ(scheduler.distinctKeeps().size(), 5u);
  EXPECT_EQ(layers[5].keeps, scheduler.distinctKeeps());
  EXPECT_EQ(layers[1].keeps, scheduler.distinctKeeps());
  // The others keep their own.
  EXPECT_EQ(layers[0].keeps, std::vector<double>{1.0});
  options.scheduler = nullptr;
  options.keeps = {0.3, 0.35};
  // k = floor(2.1), floor(1.8) = 2, 1 of 6 channels; 2, 2 of 8.
  layers = ssprop::recordLayers(*model, [&] { model->forward(x); }, options);
  EXPECT_EQ(layers[1].keeps, (std::vector<double>{0.35, 0.3}));
  EXPECT_EQ(layers[5].keeps, std::vector<double>{0.35});
}

TEST(ExportIR, LeavesTheModelAndTheRandomStateAlone) {
  torch::nn::Sequential model(snn::Conv2d(snn::Conv2dOptions(3, 4, 3)), torch::nn::BatchNorm2d(4),
                              torch::nn::Dropout(0.5));
  std::vector<torch::Tensor> before;
  for (const torch::Tensor &b : model->buffers())
    before.push_back(b.clone());
  torch::Tensor x = images();
  torch::manual_seed(3);
  ssprop::exportIR(*model, [&] { model->forward(x); });
  torch::Tensor afterExport = torch::rand({4});
  torch::manual_seed(3);
  EXPECT_TRUE(torch::equal(torch::rand({4}), afterExport));
  std::vector<torch::Tensor> after = model->buffers();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::equal(before[i], after[i])) << i;
}

TEST(ExportIR, Errors) {
  torch::Tensor x = torch::randn({1, 3, 8, 8});
  torch::nn::Sequential dense(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
  expectMessage([&] { ssprop::exportIR(*dense, [&] { dense->forward(x); }); },
                "ssprop::recordLayers: the model has no ssprop layer (ssprop::nn::Conv2d); build it with them or "
                "call ssprop::convert first");
  torch::nn::Sequential model(snn::Conv2d(snn::Conv2dOptions(3, 4, 3)));
  expectMessage([&] { ssprop::exportIR(*model, [] {}); },
                "ssprop::recordLayers: no ssprop::nn::Conv2d of the model ran in forward");
  expectMessage([&] { ssprop::exportIR(*model, [&] { model->forward(x); }, {}, "1x"); },
                "ssprop::exportIR: name must be an MLIR identifier (letters, digits, _ $ .), got '1x'");
  ssprop::DropScheduler scheduler(*model, ssprop::DropSchedulerOptions("constant", 0.5));
  ExportOptions both;
  both.keeps = {0.5};
  both.scheduler = &scheduler;
  expectMessage([&] { ssprop::exportIR(*model, [&] { model->forward(x); }, both); },
                "ssprop::recordLayers: give keeps or scheduler, not both");
  ExportOptions tooLarge;
  tooLarge.keeps = {1.5};
  expectMessage([&] { ssprop::exportIR(*model, [&] { model->forward(x); }, tooLarge); },
                "ssprop::recordLayers: keep must be in (0, 1], got 1.5");
  model->to(torch::kDouble);
  torch::Tensor x64 = x.to(torch::kDouble);
  expectMessage([&] { ssprop::exportIR(*model, [&] { model->forward(x64); }); },
                "ssprop::recordLayers: layer '0' runs in torch.float64; the IR takes float32, float16 or bfloat16");
}
