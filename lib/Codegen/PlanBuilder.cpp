//===- PlanBuilder.cpp - what the CUDA and CPU emitters share -------------===//

#include "PlanBuilder.h"

namespace ssprop::codegen {

using llvm::ArrayRef;

ConvShape getConvShape(ArrayRef<int64_t> dy, ArrayRef<int64_t> x,
                       ArrayRef<int64_t> kernelHW, ArrayRef<int64_t> stride,
                       ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
                       int64_t groups) {
  ConvShape c{};
  c.n = x[0];
  c.inChannels = x[1];
  c.height = x[2];
  c.width = x[3];
  c.outChannels = dy[1];
  c.outHeight = dy[2];
  c.outWidth = dy[3];
  c.kernelHeight = kernelHW[0];
  c.kernelWidth = kernelHW[1];
  c.strideH = stride[0];
  c.strideW = stride[1];
  c.padH = padding[0];
  c.padW = padding[1];
  c.dilationH = dilation[0];
  c.dilationW = dilation[1];
  c.groups = groups;
  return c;
}

} // namespace ssprop::codegen
