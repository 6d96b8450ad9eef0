func.func @g(%dy: tensor<2x8x5x5xbf16>, %x: tensor<2x8x10x10xbf16>, %w: tensor<8x2x3x3xbf16>) -> (tensor<2x8x10x10xbf16>, tensor<8x2x3x3xbf16>, tensor<8xbf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 4 sparsity = <keep = 0.5, select = topk> : (tensor<2x8x5x5xbf16>, tensor<2x8x10x10xbf16>, tensor<8x2x3x3xbf16>) -> (tensor<2x8x10x10xbf16>, tensor<8x2x3x3xbf16>, tensor<8xbf16>)
  return %gi, %gw, %gb : tensor<2x8x10x10xbf16>, tensor<8x2x3x3xbf16>, tensor<8xbf16>
}
