//===- ExportIR.h - a LibTorch model's backward as ssprop IR ----*- C++ -*-===//
//
// ssprop::exportIR: the C++ twin of Python's ssprop.export_ir. One forward
// pass records what every ssprop::nn::Conv2d passes its op; the IR is
// ssprop::formatBackwardIR (ssprop/Core/NetworkIR.h) of those layers, the
// last first, text for text what Python writes for the same network.
//
//   auto images = torch::randn({8, 3, 32, 32});
//   ssprop::ExportOptions options;
//   options.scheduler = &scheduler;
//   std::string ir = ssprop::exportIR(
//       *model, [&] { model->forward(images); }, options, "resnet18");
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_EXPORTIR_H
#define SSPROP_TORCH_EXPORTIR_H

#include "ssprop/Core/NetworkIR.h"
#include "ssprop/Torch/Export.h"
#include "ssprop/Torch/Scheduler.h"

#include <torch/nn/module.h>

#include <functional>
#include <string>
#include <vector>

namespace ssprop {

/// The keeps each layer's backward runs with: the scheduler's, for the layers
/// it drives (every keep its schedule takes); else `keeps`; else the layer's
/// own keep. Each layer then gets one op per kept-channel count, at the
/// largest keep of that count (ssprop::distinctKeeps).
struct ExportOptions {
  /// Keep fractions in (0, 1] for every layer; empty: none given.
  std::vector<double> keeps;
  /// Not owned; excludes `keeps`.
  const DropScheduler *scheduler = nullptr;
};

/// The ssprop::nn::Conv2d calls `forward` makes (it runs `model` on example
/// inputs), each distinct call once, the last first, named by their path in
/// `model` (`layer1.0.conv1`; calls of layers outside `model` are left out).
/// `forward` runs once with gradients enabled, so that a layer whose input
/// needs no gradient (the images) is known.
/// The model's buffers (batch-norm statistics) and the default generators of
/// the CPU and of the model's CUDA devices are restored afterwards. Throws
/// c10::Error naming the problem: no ssprop::nn::Conv2d in `model`, none
/// called, a dtype other than float32, float16 or bfloat16, bad options.
SSPROP_TORCH_API std::vector<ExportedLayer>
recordLayers(torch::nn::Module &model, const std::function<void()> &forward,
             const ExportOptions &options = {});

/// The IR of the layers recordLayers records, as function `@<name>_backward`
/// (`name`: an MLIR identifier, [A-Za-z_][A-Za-z0-9_$.]*).
SSPROP_TORCH_API std::string exportIR(torch::nn::Module &model,
                                      const std::function<void()> &forward,
                                      const ExportOptions &options = {},
                                      const std::string &name = "model");

} // namespace ssprop

#endif // SSPROP_TORCH_EXPORTIR_H
