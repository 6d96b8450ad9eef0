//===- NetworkLayers.cpp - recorded layers, and their class for Python ----===//

#include "NetworkLayers.h"

#include "Internal.h"

#include <c10/core/ScalarType.h>
#include <torch/library.h>

namespace ssprop::torch_bridge {
namespace {

constexpr const char *kPythonWhere = "ssprop.export_ir";

std::array<int64_t, 4> getShape(const char *where, const char *name,
                                const std::vector<int64_t> &shape) {
  TORCH_CHECK(shape.size() == 4, where, ": ", name,
              " must have 4 dimensions, got ", at::IntArrayRef(shape));
  return {shape[0], shape[1], shape[2], shape[3]};
}

ElementType getExportedType(const char *where, const ConvCall &call) {
  std::optional<ElementType> type = getElementType(call.dtype);
  TORCH_CHECK_VALUE(type, where, ": layer '", call.name, "' runs in torch.",
                    c10::getDtypeNames(call.dtype).first,
                    "; the IR takes float32, float16 or bfloat16");
  return *type;
}

} // namespace

ExportedLayer makeExportedLayer(const char *where, const ConvCall &call,
                                const std::vector<double> &keeps) {
  ExportedLayer layer{call.name, {}, {}, call.hasBias};
  ConvLayerSpec &spec = layer.spec;
  spec.inputShape = getShape(where, "input_shape", call.inputShape);
  spec.weightShape = getShape(where, "weight_shape", call.weightShape);
  spec.stride = expandPair(where, "stride", call.stride, 1);
  spec.padding = expandPair(where, "padding", call.padding, 0);
  spec.dilation = expandPair(where, "dilation", call.dilation, 1);
  spec.groups = call.groups;
  spec.dtype = getExportedType(where, call);
  spec.keep = call.keep;
  spec.select = checkKeepAndSelect(where, call.keep, call.select);
  spec.weightOnly = call.weightOnly;
  spec.needInputGrad = call.needsInputGrad;
  const std::string error = getGeometryError(spec);
  TORCH_CHECK(error.empty(), where, ": layer '", call.name, "': ", error);
  for (double keep : keeps)
    checkKeep(where, keep);
  layer.keeps =
      distinctKeeps(keeps.empty() ? std::vector<double>{call.keep} : keeps,
                    spec.weightShape[0]);
  return layer;
}

} // namespace ssprop::torch_bridge

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

TORCH_LIBRARY_FRAGMENT(ssprop, m) {
  using namespace ssprop::torch_bridge;
  using Self = c10::intrusive_ptr<NetworkLayersHolder>;
  m.class_<NetworkLayersHolder>("NetworkLayers")
      .def(torch::init<>())
      // Appends a layer: the last layer of the network first.
      .def("add",
           [](const Self &self, std::string name,
              std::vector<int64_t> inputShape, std::vector<int64_t> weightShape,
              std::vector<int64_t> stride, std::vector<int64_t> padding,
              std::vector<int64_t> dilation, int64_t groups,
              at::ScalarType dtype, double keep, std::vector<double> keeps,
              std::string select, bool weightOnly, bool needsInputGrad,
              bool hasBias) {
             const ConvCall call{std::move(name),
                                 std::move(inputShape),
                                 std::move(weightShape),
                                 std::move(stride),
                                 std::move(padding),
                                 std::move(dilation),
                                 groups,
                                 dtype,
                                 keep,
                                 std::move(select),
                                 weightOnly,
                                 needsInputGrad,
                                 hasBias};
             self->layers.push_back(
                 makeExportedLayer(kPythonWhere, call, keeps));
           })
      .def("size",
           [](const Self &self) {
             return static_cast<int64_t>(self->layers.size());
           })
      // The IR of the layers, as function @<name>_backward.
      .def("ir",
           [](const Self &self, std::string name) {
             return checked(kPythonWhere, [&] {
               return ssprop::formatBackwardIR(name, self->layers);
             });
           })
      // ssprop.compile: the engine of the layers (Engine.h); its summary as
      // JSON.
      .def("build_engine", [](const Self &self, c10::Device device,
                              std::string name, std::optional<std::string> plan,
                              bool progress) {
        return buildEngineOp(self->layers, device, name, plan, progress);
      });
}
