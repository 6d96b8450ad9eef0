func.func @conv(%dy: tensor<2x16x8x8xf16>, %x: tensor<2x8x8x8xf16>, %w: tensor<16x8x3x3xf16>)
    -> (tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 1]
      dilation = [1, 1] groups = 1 sparsity = <keep = 0.4, select = topk>
      : (tensor<2x16x8x8xf16>, tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>)
      -> (tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>)
  return %gi, %gw, %gb : tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>
}
