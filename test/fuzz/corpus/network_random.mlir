func.func @net(%dy0: tensor<2x8x4x4xf32>, %x0: tensor<2x4x8x8xf32>, %w0: tensor<8x4x3x3xf32>,
               %dy1: tensor<2x6x8x8xf32>, %x1: tensor<2x6x8x8xf32>, %w1: tensor<6x1x3x3xf32>)
    -> (tensor<8x4x3x3xf32>, tensor<8xf32>, tensor<2x4x8x8xf32>, tensor<6x1x3x3xf32>) {
  %a:3 = ssprop.conv2d_backward %dy0, %x0, %w0 stride = [2, 2] padding = [1, 1] dilation = [1, 1]
      groups = 1 sparsity = <keep = 0.5, select = random>
      : (tensor<2x8x4x4xf32>, tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>)
      -> (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>)
  %b:3 = ssprop.conv2d_backward %dy1, %x1, %w1 stride = [1, 1] padding = [1, 1] dilation = [1, 1]
      groups = 6 sparsity = <keep = 0.3, select = topk, grads = weight_only>
      : (tensor<2x6x8x8xf32>, tensor<2x6x8x8xf32>, tensor<6x1x3x3xf32>)
      -> (tensor<2x6x8x8xf32>, tensor<6x1x3x3xf32>, tensor<6xf32>)
  return %a#1, %a#2, %a#0, %b#1 : tensor<8x4x3x3xf32>, tensor<8xf32>, tensor<2x4x8x8xf32>, tensor<6x1x3x3xf32>
}
