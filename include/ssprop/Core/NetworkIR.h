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

} // namespace ssprop

#endif // SSPROP_CORE_NETWORKIR_H
