// RUN: ssprop-translate %s --ssprop-to-cuda -split-input-file -verify-diagnostics
// RUN: not ssprop-translate %s --ssprop-to-cuda --ssprop-arch=sm_75 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ARCH
// RUN: not ssprop-translate %s --ssprop-to-cuda --ssprop-wgrad-tile=16x16x4_1x1 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TILE

// ARCH: error: unknown --ssprop-arch 'sm_75', expected sm_80 or sm_90
// TILE: error: unknown tile '16x16x4_1x1' for --ssprop-wgrad-tile, expected one of: tc64x64_w4s4, tc128x64_w4s3, tc128x128_w8s2, 64x64x16_4x4, 128x128x8_8x8, 32x64x16_2x4

func.func @not_lowered(%dy: tensor<2x4x4x4xf32>, %x: tensor<2x4x4x4xf32>, %w: tensor<4x4x1x1xf32>)
    -> tensor<4x4x1x1xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op is not supported by the CUDA emitter, which takes the output of --ssprop-lower-to-gemm}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [0, 0]
      dilation = [1, 1] groups = 1 sparsity = <keep = 0.5, select = topk>
      : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>)
  return %gw : tensor<4x4x1x1xf32>
}

// -----

func.func @too_many_channels(%score: tensor<8200xf32>) -> tensor<10xi32> {
  // expected-error@+1 {{'ssprop.select_topk' op selects among 8200 channels; the GPU selection kernel handles at most 8192}}
  %kept = ssprop.select_topk %score k = 10 : tensor<8200xf32> -> tensor<10xi32>
  return %kept : tensor<10xi32>
}

// -----

func.func @scatter_of_argument(%rows: tensor<2x3xf32>, %kept: tensor<2xi32>) -> tensor<4x3xf32> {
  // expected-error@+1 {{'ssprop.scatter_channels' op scatters rows that are not a gathered wgrad or channel_sum; the CUDA emitter cannot place them}}
  %out = ssprop.scatter_channels %rows, %kept : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<4x3xf32>
  return %out : tensor<4x3xf32>
}

// -----

func.func @returns_argument(%score: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error@+1 {{'func.return' op returns value #0, which is an argument or already returned; the CUDA emitter needs each result computed once}}
  return %score : tensor<8xf32>
}

// -----

// expected-error@+1 {{'func.func' op argument #0 has type 'tensor<?x8x4x4xf32>'; the CUDA emitter needs statically shaped tensors}}
func.func @dynamic_argument(%dy: tensor<?x8x4x4xf32>) -> tensor<8xf32> {
  %score = ssprop.channel_score %dy : tensor<?x8x4x4xf32> -> tensor<8xf32>
  return %score : tensor<8xf32>
}

// -----

func.func @dynamic_result(%dy: tensor<2x8x4x4xf32>) -> tensor<?xf32> {
  // expected-error@+1 {{'ssprop.channel_score' op has a dynamic result shape; the CUDA emitter needs static shapes}}
  %score = ssprop.channel_score %dy : tensor<2x8x4x4xf32> -> tensor<?xf32>
  return %score : tensor<?xf32>
}

// -----

// 2^31 elements in grad_output: beyond the kernels' 32-bit indexing.
// expected-error@+1 {{'func.func' op argument #0 has 32768x256x16x16 elements; the kernels index with 32 bits}}
func.func @argument_too_large(%dy: tensor<32768x256x16x16xf32>) -> tensor<256xf32> {
  %score = ssprop.channel_score %dy : tensor<32768x256x16x16xf32> -> tensor<256xf32>
  return %score : tensor<256xf32>
}
