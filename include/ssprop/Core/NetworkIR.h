//===- NetworkIR.h - a network's convolution backwards as ssprop IR -*- C++ -*-===//
//
// The layers of a network as an exporter records them (from a forward pass of
// a PyTorch or LibTorch model) and their backward as one function of
// ssprop.conv2d_backward ops: the one definition of the exported IR, shared
// by ssprop.export_ir (Python), ssprop::exportIR (C++) and the engine build.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_NETWORKIR_H
#define SSPROP_CORE_NETWORKIR_H

#include "ssprop/Core/LayerSpec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ssprop {

/// One convolution layer of a network: its qualified name in the model, its
/// spec (spec.keep is the layer's own keep), the keeps its backward will run
/// with (each distinct kept-channel count once, the largest keep of that
/// count first), and whether it has a bias.
struct ExportedLayer {
  std::string name;
  ConvLayerSpec spec;
  std::vector<double> keeps;
  bool hasBias = true;
};

/// One keep per kept-channel count keptChannels(keep, channels), the largest
/// of that count, largest first: keeps with the same k lower to the same
/// kernels.
std::vector<double> distinctKeeps(const std::vector<double> &keeps,
                                  int64_t channels);

/// Whether `name` may name a network: an MLIR identifier,
/// [A-Za-z_][A-Za-z0-9_$.]*, in the C locale (hence also a file name that
/// stays in its folder).
bool isIdentifier(const std::string &name);

/// The backward of `layers` (in the order given: an exporter passes the last
/// layer first) as one function `@<name>_backward`, under a comment line.
/// Per layer i: the arguments %dy<i>, %x<i>, %w<i>, and one
/// ssprop.conv2d_backward per keep, located at the layer's name. Its results
/// are the gradients training needs: the input gradient only where
/// spec.needInputGrad, the bias gradient only where hasBias. Throws
/// std::invalid_argument if `name` is not an MLIR identifier
/// ([A-Za-z_][A-Za-z0-9_$.]*), there is no layer, or a layer has no keep or
/// a geometry getGeometryError rejects.
std::string formatBackwardIR(const std::string &name,
                             const std::vector<ExportedLayer> &layers);

/// `tensor<2x3x8x8xf32>`.
std::string formatTensorType(const std::vector<int64_t> &shape,
                             ElementType type);

/// The types of a convolution backward's operands and results.
struct ConvBackwardTypes {
  std::string gradOutput, input, weight, bias;
};
ConvBackwardTypes getConvBackwardTypes(const ConvLayerSpec &spec);

/// One `<results> = ssprop.conv2d_backward <operands>` of `spec` at `keep`,
/// up to its result types (no location, no final newline): the op's syntax,
/// written once for the network's IR and the compiler's single layer.
std::string formatConvBackwardOp(const ConvLayerSpec &spec, double keep,
                                 const std::string &results,
                                 const std::string &operands);

} // namespace ssprop

#endif // SSPROP_CORE_NETWORKIR_H
