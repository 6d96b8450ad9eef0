//===- LayerCases.h - convolution layers the codegen tests run --*- C++ -*-===//
//
// Small layers that together reach every kernel variant: stride, padding,
// dilation, non-square kernels, groups, depthwise, 1x1, ragged edges, N = 1,
// k = 1, k = Cout, random selection and weight-only gradients.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_LAYERCASES_H
#define SSPROP_TEST_CODEGEN_LAYERCASES_H

#include "ssprop/Compiler/Compiler.h"

#include <string>
#include <vector>

namespace ssprop::test {

struct LayerCase {
  std::string name;
  ConvLayerSpec spec;
};

inline ConvLayerSpec makeSpec(std::array<int64_t, 4> input,
                              std::array<int64_t, 4> weight, double keep) {
  ConvLayerSpec spec;
  spec.inputShape = input;
  spec.weightShape = weight;
  spec.keep = keep;
  return spec;
}

/// The conv cases, in f32; tests derive f16/bf16 and tile variants.
inline std::vector<LayerCase> getLayerCases() {
  std::vector<LayerCase> cases;
  auto add = [&](std::string name, ConvLayerSpec spec) {
    cases.push_back({std::move(name), spec});
  };
  ConvLayerSpec spec = makeSpec({2, 5, 7, 7}, {12, 5, 3, 3}, 0.4);
  spec.padding = {1, 1};
  add("conv3x3_pad1", spec);

  spec = makeSpec({2, 4, 9, 9}, {10, 4, 3, 3}, 0.5);
  spec.stride = {2, 2};
  spec.padding = {1, 1};
  add("stride2_pad1", spec);

  spec = makeSpec({2, 3, 8, 10}, {8, 3, 3, 5}, 0.5);
  spec.padding = {2, 1};
  spec.dilation = {2, 2};
  add("dilation2_kernel3x5", spec);

  spec = makeSpec({2, 6, 6, 6}, {9, 2, 3, 3}, 0.5);
  spec.padding = {1, 1};
  spec.groups = 3;
  add("groups3", spec);

  spec = makeSpec({2, 8, 6, 6}, {8, 1, 3, 3}, 0.5);
  spec.padding = {1, 1};
  spec.groups = 8;
  add("depthwise", spec);

  add("pointwise_plain", makeSpec({2, 6, 5, 5}, {10, 6, 1, 1}, 0.4));

  spec = makeSpec({2, 6, 7, 7}, {10, 6, 1, 1}, 0.4);
  spec.stride = {2, 2};
  add("pointwise_stride2", spec);

  spec = makeSpec({1, 5, 7, 7}, {12, 5, 3, 3}, 0.4);
  spec.padding = {1, 1};
  add("batch1", spec);

  spec = makeSpec({2, 5, 7, 7}, {12, 5, 3, 3}, 0.05);
  spec.padding = {1, 1};
  add("k1", spec);

  spec = makeSpec({2, 5, 7, 7}, {12, 5, 3, 3}, 1.0);
  spec.padding = {1, 1};
  add("dense_keep1", spec);

  spec = makeSpec({2, 5, 7, 7}, {12, 5, 3, 3}, 0.3);
  spec.padding = {1, 1};
  spec.select = Select::random;
  add("random", spec);

  spec = makeSpec({2, 5, 7, 7}, {12, 5, 3, 3}, 0.4);
  spec.padding = {1, 1};
  spec.weightOnly = true;
  add("weight_only", spec);

  spec = makeSpec({2, 3, 7, 7}, {12, 3, 3, 3}, 0.4);
  spec.padding = {1, 1};
  spec.needInputGrad = false;
  add("no_input_grad", spec);

  // More channels than one 64-row tile, and a larger reduction.
  spec = makeSpec({2, 16, 10, 10}, {80, 16, 3, 3}, 0.9);
  spec.padding = {1, 1};
  add("wide_k72", spec);
  return cases;
}

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_LAYERCASES_H
