//===- ExportIR.cpp - a LibTorch model's backward as ssprop IR ------------===//
//
// recordLayers makes a Recorder this thread's while the forward runs;
// ssprop::nn::Conv2d's forward reports each call to it (recordConvCall), and
// the calls become layers through makeExportedLayer, as Python's do.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Torch/ExportIR.h"

#include "Internal.h"
#include "NetworkLayers.h"

#include "ssprop/Torch/Modules.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>

#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

namespace ssprop {
namespace {

constexpr const char *kRecordWhere = "ssprop::recordLayers";
constexpr const char *kExportWhere = "ssprop::exportIR";

/// The calls of one forward pass.
struct Recorder {
  /// The model's ssprop convolutions and their paths.
  std::unordered_map<const nn::Conv2dImpl *, std::string> names;
  /// Each distinct call once, in the order they ran, with its layer.
  std::vector<std::pair<const nn::Conv2dImpl *, torch_bridge::ConvCall>> calls;
};

thread_local Recorder *activeRecorder = nullptr;

/// Makes `recorder` this thread's while it lives.
class RecordingScope {
public:
  explicit RecordingScope(Recorder &recorder) : previous(activeRecorder) {
    activeRecorder = &recorder;
  }
  ~RecordingScope() { activeRecorder = previous; }

private:
  Recorder *previous;
};

/// Puts back what a forward pass changes besides its outputs: the model's
/// buffers (batch-norm statistics) and the states of the default generators
/// (dropout) of the CPU and of the model's CUDA devices.
class ModelStateGuard {
public:
  explicit ModelStateGuard(const torch::nn::Module &model) {
    std::set<c10::DeviceIndex> cudaDevices;
    for (const auto &tensors : {model.parameters(), model.buffers()})
      for (const at::Tensor &t : tensors)
        if (t.defined() && t.is_cuda())
          cudaDevices.insert(t.device().index());
    save(at::detail::getDefaultCPUGenerator());
    for (c10::DeviceIndex index : cudaDevices)
      save(at::globalContext().defaultGenerator({c10::kCUDA, index}));
    for (const at::Tensor &buffer : model.buffers())
      if (buffer.defined())
        buffers.emplace_back(buffer, buffer.detach().clone());
  }
  ~ModelStateGuard() {
    c10::NoGradGuard noGrad;
    for (auto &[buffer, value] : buffers)
      buffer.copy_(value);
    for (auto &[generator, state] : generators) {
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(state);
    }
  }

private:
  void save(at::Generator generator) {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generators.emplace_back(generator, generator.get_state());
  }

  std::vector<std::pair<at::Tensor, at::Tensor>> buffers;
  std::vector<std::pair<at::Generator, at::Tensor>> generators;
};

Recorder makeRecorder(torch::nn::Module &model) {
  Recorder recorder;
  if (const auto *conv = dynamic_cast<const nn::Conv2dImpl *>(&model))
    recorder.names.emplace(conv, "");
  for (const auto &item : model.named_modules("", /*include_self=*/false))
    if (const auto *conv =
            dynamic_cast<const nn::Conv2dImpl *>(item.value().get()))
      recorder.names.emplace(conv, item.key());
  TORCH_CHECK_VALUE(!recorder.names.empty(), kRecordWhere,
                    ": the model has no ssprop layer (ssprop::nn::Conv2d); "
                    "build it with them or call ssprop::convert first");
  return recorder;
}

std::vector<double> keepsOf(const nn::Conv2dImpl &layer,
                            const ExportOptions &options) {
  if (options.scheduler && options.scheduler->drives(layer))
    return options.scheduler->distinctKeeps();
  return options.keeps;
}

} // namespace

namespace torch_bridge {

void recordConvCall(const nn::Conv2dImpl &layer, const at::Tensor &input) {
  Recorder *recorder = activeRecorder;
  if (!recorder)
    return;
  auto name = recorder->names.find(&layer);
  if (name == recorder->names.end())
    return;
  // What Conv2dImpl::forward passes ssprop::conv2d.
  const nn::Conv2dOptions &o = layer.options;
  ConvCall call{name->second,
                input.sizes().vec(),
                layer.weight.sizes().vec(),
                at::IntArrayRef(o.stride()).vec(),
                at::IntArrayRef(o.padding()).vec(),
                at::IntArrayRef(o.dilation()).vec(),
                o.groups(),
                input.scalar_type(),
                o.keep(),
                o.select(),
                o.weight_only(),
                input.requires_grad(),
                layer.bias.defined()};
  for (const auto &recorded : recorder->calls)
    if (recorded.second == call)
      return;
  recorder->calls.emplace_back(&layer, std::move(call));
}

} // namespace torch_bridge

std::vector<ExportedLayer> recordLayers(torch::nn::Module &model,
                                        const std::function<void()> &forward,
                                        const ExportOptions &options) {
  TORCH_CHECK_VALUE(options.keeps.empty() || !options.scheduler, kRecordWhere,
                    ": give keeps or scheduler, not both");
  Recorder recorder = makeRecorder(model);
  {
    ModelStateGuard restore(model);
    c10::AutoGradMode enableGrad(true);
    RecordingScope scope(recorder);
    forward();
  }
  TORCH_CHECK_VALUE(!recorder.calls.empty(), kRecordWhere,
                    ": no ssprop::nn::Conv2d of the model ran in forward");
  std::vector<ExportedLayer> layers;
  for (auto it = recorder.calls.rbegin(); it != recorder.calls.rend(); ++it)
    layers.push_back(torch_bridge::makeExportedLayer(
        kRecordWhere, it->second, keepsOf(*it->first, options)));
  return layers;
}

std::string exportIR(torch::nn::Module &model,
                     const std::function<void()> &forward,
                     const ExportOptions &options, const std::string &name) {
  const std::vector<ExportedLayer> layers =
      recordLayers(model, forward, options);
  return torch_bridge::checked(kExportWhere,
                               [&] { return formatBackwardIR(name, layers); });
}

} // namespace ssprop
