// The backward of the 6 ssprop convolutions of variants, the last first (ssprop.export_ir).
func.func @variants_backward(
    %dy0: tensor<2x5x4x10xf32>,
    %x0: tensor<2x6x9x8xf32>,
    %w0: tensor<5x6x3x1xf32>,
    %dy1: tensor<2x6x9x8xf32>,
    %x1: tensor<2x16x9x8xf32>,
    %w1: tensor<6x16x1x1xf32>,
    %dy2: tensor<2x16x9x8xf32>,
    %x2: tensor<2x12x9x8xf32>,
    %w2: tensor<16x12x3x3xf32>,
    %dy3: tensor<2x12x9x8xf32>,
    %x3: tensor<2x12x9x8xf32>,
    %w3: tensor<12x1x5x5xf32>,
    %dy4: tensor<2x12x9x8xf32>,
    %x4: tensor<2x8x17x15xf32>,
    %w4: tensor<12x2x3x3xf32>,
    %dy5: tensor<2x8x17x15xf32>,
    %x5: tensor<2x3x17x15xf32>,
    %w5: tensor<8x3x3x3xf32>)
    -> (tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) {
  // tall: 6->5, 3x1, stride 2, 9x8 -> 4x10
  %g0:3 = ssprop.conv2d_backward %dy0, %x0, %w0
      stride = [2, 1] padding = [0, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x5x4x10xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>)
      -> (tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>) loc("tall")
  %g1:3 = ssprop.conv2d_backward %dy0, %x0, %w0
      stride = [2, 1] padding = [0, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x5x4x10xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>)
      -> (tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>) loc("tall")
  %g2:3 = ssprop.conv2d_backward %dy0, %x0, %w0
      stride = [2, 1] padding = [0, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.25, select = topk>
      : (tensor<2x5x4x10xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>)
      -> (tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>) loc("tall")
  // pointwise: 16->6, 1x1, stride 1, 9x8 -> 9x8
  %g3:3 = ssprop.conv2d_backward %dy1, %x1, %w1
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x6x9x8xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>)
      -> (tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>) loc("pointwise")
  %g4:3 = ssprop.conv2d_backward %dy1, %x1, %w1
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x6x9x8xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>)
      -> (tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>) loc("pointwise")
  %g5:3 = ssprop.conv2d_backward %dy1, %x1, %w1
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.25, select = topk>
      : (tensor<2x6x9x8xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>)
      -> (tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>) loc("pointwise")
  // dilated: 12->16, 3x3, stride 1, 9x8 -> 9x8
  %g6:3 = ssprop.conv2d_backward %dy2, %x2, %w2
      stride = [1, 1] padding = [2, 2] dilation = [2, 2] groups = 1
      sparsity = <keep = 1.0, select = random, grads = weight_only>
      : (tensor<2x16x9x8xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<16xf32>) loc("dilated")
  %g7:3 = ssprop.conv2d_backward %dy2, %x2, %w2
      stride = [1, 1] padding = [2, 2] dilation = [2, 2] groups = 1
      sparsity = <keep = 0.5, select = random, grads = weight_only>
      : (tensor<2x16x9x8xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<16xf32>) loc("dilated")
  %g8:3 = ssprop.conv2d_backward %dy2, %x2, %w2
      stride = [1, 1] padding = [2, 2] dilation = [2, 2] groups = 1
      sparsity = <keep = 0.25, select = random, grads = weight_only>
      : (tensor<2x16x9x8xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<16xf32>) loc("dilated")
  // depthwise: 12->12, 5x5, stride 1, 9x8 -> 9x8
  %g9:3 = ssprop.conv2d_backward %dy3, %x3, %w3
      stride = [1, 1] padding = [2, 2] dilation = [1, 1] groups = 12
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>) loc("depthwise")
  %g10:3 = ssprop.conv2d_backward %dy3, %x3, %w3
      stride = [1, 1] padding = [2, 2] dilation = [1, 1] groups = 12
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>) loc("depthwise")
  %g11:3 = ssprop.conv2d_backward %dy3, %x3, %w3
      stride = [1, 1] padding = [2, 2] dilation = [1, 1] groups = 12
      sparsity = <keep = 0.25, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>)
      -> (tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>) loc("depthwise")
  // grouped: 8->12, 3x3, stride 2, 17x15 -> 9x8
  %g12:3 = ssprop.conv2d_backward %dy4, %x4, %w4
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>)
      -> (tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<12xf32>) loc("grouped")
  %g13:3 = ssprop.conv2d_backward %dy4, %x4, %w4
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>)
      -> (tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<12xf32>) loc("grouped")
  %g14:3 = ssprop.conv2d_backward %dy4, %x4, %w4
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.25, select = topk>
      : (tensor<2x12x9x8xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>)
      -> (tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<12xf32>) loc("grouped")
  // stem: 3->8, 3x3, stride 1, 17x15 -> 17x15
  %g15:3 = ssprop.conv2d_backward %dy5, %x5, %w5
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x8x17x15xf32>, tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>)
      -> (tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) loc("stem")
  %g16:3 = ssprop.conv2d_backward %dy5, %x5, %w5
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x8x17x15xf32>, tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>)
      -> (tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) loc("stem")
  %g17:3 = ssprop.conv2d_backward %dy5, %x5, %w5
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.25, select = topk>
      : (tensor<2x8x17x15xf32>, tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>)
      -> (tensor<2x3x17x15xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) loc("stem")
  return %g0#0, %g0#1, %g0#2, %g1#0, %g1#1, %g1#2, %g2#0, %g2#1, %g2#2, %g3#0, %g3#1, %g3#2, %g4#0, %g4#1, %g4#2, %g5#0, %g5#1, %g5#2, %g6#0, %g6#1, %g7#0, %g7#1, %g8#0, %g8#1, %g9#0, %g9#1, %g9#2, %g10#0, %g10#1, %g10#2, %g11#0, %g11#1, %g11#2, %g12#0, %g12#1, %g13#0, %g13#1, %g14#0, %g14#1, %g15#1, %g15#2, %g16#1, %g16#2, %g17#1, %g17#2
      : tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x6x9x8xf32>, tensor<5x6x3x1xf32>, tensor<5xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x16x9x8xf32>, tensor<6x16x1x1xf32>, tensor<6xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<16x12x3x3xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x12x9x8xf32>, tensor<12x1x5x5xf32>, tensor<12xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<2x8x17x15xf32>, tensor<12x2x3x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>
}
