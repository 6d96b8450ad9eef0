// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file -verify-diagnostics

// --ssprop-lower-to-gemm needs static shapes: the GEMM sizes are compile-time
// constants. Every case is a valid conv2d_backward (the verifier accepts
// dynamic dimensions) that the pass must reject with the dynamic operand named.

// A dynamic batch (in grad_output and input).
func.func @dynamic_batch(%dy: tensor<?x16x32x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> tensor<16x16x3x3xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: grad_output has a dynamic shape (?x16x32x32), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw : tensor<16x16x3x3xf32>
}

// -----

// A dynamic output channel dimension in the weight only.
func.func @dynamic_out_channels(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<?x16x3x3xf32>) -> tensor<?x16x3x3xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: weight has a dynamic shape (?x16x3x3), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<?x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<?x16x3x3xf32>, tensor<?xf32>)
  return %gw : tensor<?x16x3x3xf32>
}

// -----

// A dynamic input channel dimension.
func.func @dynamic_in_channels(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x?x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> tensor<16x16x3x3xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: input has a dynamic shape (8x?x32x32), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x?x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x?x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw : tensor<16x16x3x3xf32>
}

// -----

// A dynamic spatial dimension in the input (grad_output is static).
func.func @dynamic_input_height(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x?x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> tensor<16x16x3x3xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: input has a dynamic shape (8x16x?x32), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x?x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x?x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw : tensor<16x16x3x3xf32>
}

// -----

// A dynamic spatial dimension in grad_output (the input is static).
func.func @dynamic_grad_output_width(%dy: tensor<8x16x32x?xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> tensor<16x16x3x3xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: grad_output has a dynamic shape (8x16x32x?), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x?xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw : tensor<16x16x3x3xf32>
}

// -----

// A dynamic kernel size, at keep = 1 (dense): no selection to fall back on.
func.func @dynamic_kernel_dense(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x?xf32>) -> tensor<16x16x3x?xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: weight has a dynamic shape (16x16x3x?), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x?xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x?xf32>, tensor<16xf32>)
  return %gw : tensor<16x16x3x?xf32>
}

// -----

// The check comes before any use is looked at: a dynamic op is rejected even
// when none of its results is used.
func.func @dynamic_unused(%dy: tensor<?x16x32x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: grad_output has a dynamic shape (?x16x32x32), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// Every op that cannot be lowered is reported, not only the first; the static
// op between them raises no error.
func.func @two_failures(%dy: tensor<?x16x32x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %dy2: tensor<8x16x32x32xf32>,
    %x2: tensor<8x16x32x32xf32>, %x3: tensor<8x16x?x?xf32>)
    -> (tensor<16x16x3x3xf32>, tensor<16x16x3x3xf32>, tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: grad_output has a dynamic shape (?x16x32x32), but the GEMM sizes must be static}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  %gi2, %gw2, %gb2 = ssprop.conv2d_backward %dy2, %x2, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: input has a dynamic shape (8x16x?x?), but the GEMM sizes must be static}}
  %gi3, %gw3, %gb3 = ssprop.conv2d_backward %dy2, %x3, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw, %gw2, %gw3 : tensor<16x16x3x3xf32>, tensor<16x16x3x3xf32>, tensor<16x16x3x3xf32>
}

// -----

// A valid op whose GEMM sizes (M = N * H * W) overflow 64 bits.
func.func @gemm_size_overflows(%dy: tensor<4294967296x1x4294967296x1xf32>,
                               %x: tensor<4294967296x1x4294967296x1xf32>,
                               %w: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op cannot be lowered to GEMMs: a GEMM size overflows 64-bit arithmetic}}
  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [0, 0]
      dilation = [1, 1] groups = 1 sparsity = <keep = 1.0, select = topk>
      : (tensor<4294967296x1x4294967296x1xf32>, tensor<4294967296x1x4294967296x1xf32>,
         tensor<1x1x1x1xf32>)
      -> (tensor<4294967296x1x4294967296x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>)
  return %r#1 : tensor<1x1x1x1xf32>
}
