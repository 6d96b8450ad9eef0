// RUN: ssprop-opt %s -split-input-file -verify-diagnostics

// Verifier errors of ssprop.conv2d_backward. Every case is otherwise valid, so the
// expected error is the only one. Valid dynamic shapes are in roundtrip.mlir.

// A 3-D grad_output fails the ODS type constraint.
func.func @operand_rank_3(%dy: tensor<16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op operand #0 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<16x32x32xf32>'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// An integer input fails the ODS type constraint.
func.func @integer_element_type(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xi32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op operand #1 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<8x16x32x32xi32>'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xi32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xi32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A 2-D grad_bias fails the ODS type constraint.
func.func @grad_bias_rank_2(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op result #2 must be 1D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<16x1xf32>'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16x1xf32>)
  return
}

// -----

// A zero stride.
func.func @stride_zero(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected stride elements >= 1, got [0, 1]}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [0, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A stride with three elements.
func.func @stride_three_elements(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected stride to have 2 elements (height, width), got 3}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A negative padding.
func.func @padding_negative(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected padding elements >= 0, got [1, -1]}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, -1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A padding with one element.
func.func @padding_one_element(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected padding to have 2 elements (height, width), got 1}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A zero dilation.
func.func @dilation_zero(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected dilation elements >= 1, got [1, 0]}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 0] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// An empty dilation.
func.func @dilation_empty(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected dilation to have 2 elements (height, width), got 0}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Zero groups.
func.func @groups_zero(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected groups >= 1, got 0}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 0
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Negative groups (read as a signed i64).
func.func @groups_negative(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected groups >= 1, got -2}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = -2
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// An f16 weight with f32 grad_output.
func.func @weight_element_type_f16(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf16>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected weight element type 'f32' (the element type of grad_output), got 'f16'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf16>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf16>, tensor<16xf32>)
  return
}

// -----

// A bf16 input with f32 grad_output.
func.func @input_element_type_bf16(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xbf16>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected input element type 'f32' (the element type of grad_output), got 'bf16'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xbf16>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// An f16 grad_input with f32 operands.
func.func @grad_input_element_type_f16(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_input element type 'f32' (the element type of grad_output), got 'f16'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// A bf16 grad_weight with f32 operands.
func.func @grad_weight_element_type_bf16(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_weight element type 'f32' (the element type of grad_output), got 'bf16'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xbf16>, tensor<16xf32>)
  return
}

// -----

// A bf16 grad_bias with f32 operands.
func.func @grad_bias_element_type_bf16(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_bias element type 'f32' (the element type of grad_output), got 'bf16'}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xbf16>)
  return
}

// -----

// grad_output batch 4 against input batch 8.
func.func @batch_mismatch(%dy: tensor<4x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output batch 8 (the batch of input), got 4}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<4x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// grad_output has 8 channels, the weight 16 output channels.
func.func @grad_output_channels_mismatch(%dy: tensor<8x8x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output channels 16 (the output channels of weight), got 8}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x8x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// 6 input channels in 4 groups.
func.func @input_channels_not_divisible_by_groups(%dy: tensor<8x16x32x32xf32>,
    %x: tensor<8x6x32x32xf32>,
    %w: tensor<16x1x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected input channels 6 to be divisible by groups 4}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x6x32x32xf32>, tensor<16x1x3x3xf32>)
      -> (tensor<8x6x32x32xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// 18 output channels in 4 groups.
func.func @output_channels_not_divisible_by_groups(%dy: tensor<8x18x32x32xf32>,
    %x: tensor<8x8x32x32xf32>,
    %w: tensor<18x2x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected output channels 18 to be divisible by groups 4}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x18x32x32xf32>, tensor<8x8x32x32xf32>, tensor<18x2x3x3xf32>)
      -> (tensor<8x8x32x32xf32>, tensor<18x2x3x3xf32>, tensor<18xf32>)
  return
}

// -----

// With a dynamic weight Cout, grad_output's 18 channels in 4 groups.
func.func @output_channels_not_divisible_by_groups_dynamic_weight(%dy: tensor<8x18x32x32xf32>,
    %x: tensor<8x8x32x32xf32>,
    %w: tensor<?x2x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected output channels 18 to be divisible by groups 4}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x18x32x32xf32>, tensor<8x8x32x32xf32>, tensor<?x2x3x3xf32>)
      -> (tensor<8x8x32x32xf32>, tensor<?x2x3x3xf32>, tensor<18xf32>)
  return
}

// -----

// groups = 2: the weight needs 16 / 2 = 8 input channels.
func.func @weight_channels_per_group(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected weight input channels per group 8 (input channels 16 / groups 2), got 16}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 2
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Depthwise (groups = 16) with a dense weight.
func.func @depthwise_weight_channels(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected weight input channels per group 1 (input channels 16 / groups 16), got 16}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 16
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Stride 2, padding 1: (32 + 2 - 2 - 1) / 2 + 1 = 16, not 15.
func.func @stride2_height_off_by_one(%dy: tensor<8x16x15x16xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output height 16 (input height 32, kernel 3, stride 2, padding 1, dilation 1), got 15}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x15x16xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Odd size: (7 - 2 - 1) / 2 + 1 = 3, not 4.
func.func @stride2_odd_height(%dy: tensor<1x4x4x3xf32>, %x: tensor<1x3x7x7xf32>,
    %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output height 3 (input height 7, kernel 3, stride 2, padding 0, dilation 1), got 4}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<1x4x4x3xf32>, tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>)
      -> (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>)
  return
}

// -----

// Dilation 2: (32 + 2 - 4 - 1) / 1 + 1 = 30, not 32.
func.func @width_mismatch_dilation2(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output width 30 (input width 32, kernel 3, stride 1, padding 1, dilation 2), got 32}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 2] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// 3x5 kernel with padding [1, 1]: width (32 + 2 - 4 - 1) + 1 = 30, not 32.
func.func @kernel_3x5_width_mismatch(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x5xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output width 30 (input width 32, kernel 5, stride 1, padding 1, dilation 1), got 32}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x5xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x5xf32>, tensor<16xf32>)
  return
}

// -----

// 5x3 kernel with padding [1, 2]: height 30, not 32 (width 34 is checked after).
func.func @kernel_5x3_height_mismatch(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x5x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output height 30 (input height 32, kernel 5, stride 1, padding 1, dilation 1), got 32}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 2] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x5x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x5x3xf32>, tensor<16xf32>)
  return
}

// -----

// A 7x7 kernel over a 4x4 input with padding 1.
func.func @kernel_larger_than_padded_input(%dy: tensor<8x16x1x1xf32>, %x: tensor<8x16x4x4xf32>,
    %w: tensor<16x16x7x7xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op input height 4 with padding 1 is smaller than the dilated kernel height 7 (kernel 7, dilation 1)}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x1x1xf32>, tensor<8x16x4x4xf32>, tensor<16x16x7x7xf32>)
      -> (tensor<8x16x4x4xf32>, tensor<16x16x7x7xf32>, tensor<16xf32>)
  return
}

// -----

// A 3x3 kernel dilated by 4 spans 9 > 8 in width.
func.func @dilated_kernel_larger_than_input(%dy: tensor<8x16x8x1xf32>, %x: tensor<8x16x8x8xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op input width 8 with padding 0 is smaller than the dilated kernel width 9 (kernel 3, dilation 4)}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 0] dilation = [1, 4] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x8x1xf32>, tensor<8x16x8x8xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// grad_input must have the shape of input.
func.func @grad_input_shape(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_input shape 8x16x32x32 (the shape of input), got 8x16x32x31}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x31xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// grad_weight must have the shape of weight.
func.func @grad_weight_shape(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_weight shape 16x16x3x3 (the shape of weight), got 16x16x3x1}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x1xf32>, tensor<16xf32>)
  return
}

// -----

// grad_bias must have the output channels.
func.func @grad_bias_shape(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_bias shape 16 (the output channels), got 8}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<8xf32>)
  return
}

// -----

// With a dynamic weight Cout, grad_bias must match grad_output's channels.
func.func @grad_bias_shape_dynamic_weight(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<?x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_bias shape 16 (the output channels), got 8}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<?x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<8xf32>)
  return
}

// -----

// Dynamic batch: the static height relation is still checked.
func.func @dynamic_batch_height_mismatch(%dy: tensor<?x16x31x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_output height 32 (input height 32, kernel 3, stride 1, padding 1, dilation 1), got 31}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x31x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Dynamic batch: the static dimensions of grad_input are still checked.
func.func @dynamic_batch_grad_input_shape(%dy: tensor<?x16x32x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op expected grad_input shape ?x16x32x32 (the shape of input), got ?x8x32x32}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x8x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Found by the fuzzer under UBSan: geometry whose arithmetic overflows 64 bits
// is an error, not undefined behaviour.
func.func @dilation_overflows(%dy: tensor<2x4x8x8xf32>, %x: tensor<2x4x10x10xf32>,
                              %w: tensor<4x4x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op input height 10 with kernel 3, padding 1 and dilation 4611686018427387904 overflows 64-bit arithmetic}}
  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 1]
      dilation = [4611686018427387904, 1] groups = 1 sparsity = <keep = 0.5, select = topk>
      : (tensor<2x4x8x8xf32>, tensor<2x4x10x10xf32>, tensor<4x4x3x3xf32>)
      -> (tensor<2x4x10x10xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>)
  return
}

// -----

func.func @padding_overflows(%dy: tensor<2x4x10x8xf32>, %x: tensor<2x4x10x10xf32>,
                             %w: tensor<4x4x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op input width 10 with kernel 3, padding 4611686018427387904 and dilation 1 overflows 64-bit arithmetic}}
  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 4611686018427387904]
      dilation = [1, 1] groups = 1 sparsity = <keep = 0.5, select = topk>
      : (tensor<2x4x10x8xf32>, tensor<2x4x10x10xf32>, tensor<4x4x3x3xf32>)
      -> (tensor<2x4x10x10xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>)
  return
}
