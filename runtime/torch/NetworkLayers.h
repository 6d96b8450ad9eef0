//===- NetworkLayers.h - the layers the exporters record --------*- C++ -*-===//
//
// Private to runtime/torch. Both exporters record each ssprop convolution
// call of a forward pass as a ConvCall and turn it into an ExportedLayer
// (ssprop/Core/NetworkIR.h) through makeExportedLayer: ssprop::recordLayers
// in C++, and Python's ssprop.export_ir through the custom class
// torch.classes.ssprop.NetworkLayers, whose holder the ops that build from a
// network take.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TORCH_NETWORKLAYERS_H
#define SSPROP_RUNTIME_TORCH_NETWORKLAYERS_H

#include "ssprop/Core/NetworkIR.h"

#include <ATen/ATen.h>
#include <torch/custom_class.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace ssprop::nn {
class Conv2dImpl;
} // namespace ssprop::nn

namespace ssprop::torch_bridge {

/// torch.classes.ssprop.NetworkLayers: the layers of a network, in the order
/// the IR lists them (the last layer first).
struct NetworkLayersHolder : torch::CustomClassHolder {
  std::vector<ExportedLayer> layers;
};

/// One call of an ssprop convolution: the layer's qualified name, and what
/// it passed its op.
struct ConvCall {
  std::string name;
  std::vector<int64_t> inputShape, weightShape, stride, padding, dilation;
  int64_t groups = 1;
  at::ScalarType dtype = at::kFloat;
  double keep = 1.0;
  std::string select;
  bool weightOnly = false, needsInputGrad = true, hasBias = true;

  auto tie() const {
    return std::tie(name, inputShape, weightShape, stride, padding, dilation,
                    groups, dtype, keep, select, weightOnly, needsInputGrad,
                    hasBias);
  }
  bool operator==(const ConvCall &other) const { return tie() == other.tie(); }
};

/// The layer of `call`, its backward run with distinctKeeps of `keeps` (none:
/// the layer's own keep). `where` prefixes the errors: a shape that is not
/// 4-D, a pair of more than 2 values, an element type the IR lacks
/// (ValueError), a keep outside (0, 1], an unknown select, a geometry
/// getGeometryError rejects.
ExportedLayer makeExportedLayer(const char *where, const ConvCall &call,
                                const std::vector<double> &keeps);

/// Reports a call of `layer` on `input` to ssprop::recordLayers when it
/// records on this thread; else does nothing.
void recordConvCall(const nn::Conv2dImpl &layer, const at::Tensor &input);

} // namespace ssprop::torch_bridge

#endif // SSPROP_RUNTIME_TORCH_NETWORKLAYERS_H
