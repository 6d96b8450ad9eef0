func.func @pw(%dy: tensor<1x12x5x5xf32>, %x: tensor<1x5x5x5xf32>, %w: tensor<12x5x1x1xf32>,
              %dy2: tensor<1x4x3x6xf32>, %x2: tensor<1x3x7x10xf32>, %w2: tensor<4x3x3x5xf32>)
    -> (tensor<12x5x1x1xf32>, tensor<1x3x7x10xf32>) {
  %a:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1]
      groups = 1 sparsity = <keep = 1.0, select = topk>
      : (tensor<1x12x5x5xf32>, tensor<1x5x5x5xf32>, tensor<12x5x1x1xf32>)
      -> (tensor<1x5x5x5xf32>, tensor<12x5x1x1xf32>, tensor<12xf32>)
  %b:3 = ssprop.conv2d_backward %dy2, %x2, %w2 stride = [2, 1] padding = [1, 2] dilation = [2, 2]
      groups = 1 sparsity = <keep = 0.01, select = topk>
      : (tensor<1x4x3x6xf32>, tensor<1x3x7x10xf32>, tensor<4x3x3x5xf32>)
      -> (tensor<1x3x7x10xf32>, tensor<4x3x3x5xf32>, tensor<4xf32>)
  return %a#1, %b#0 : tensor<12x5x1x1xf32>, tensor<1x3x7x10xf32>
}
