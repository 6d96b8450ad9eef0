// RUN: ssprop-translate %s --ssprop-to-cpu -split-input-file -verify-diagnostics
// RUN: not ssprop-translate %s --ssprop-to-cpu --ssprop-isa=sse4 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ISA
// RUN: not ssprop-translate %s --ssprop-to-cpu --ssprop-cpu-tile=w9x9_d9x9t 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TILE
// RUN: not ssprop-translate %s --ssprop-to-cpu --ssprop-threads=0 2>&1 \
// RUN:   | FileCheck %s --check-prefix=THREADS

// ISA: error: unknown --ssprop-isa 'sse4', expected avx2 or avx512
// TILE: error: unknown --ssprop-cpu-tile 'w9x9_d9x9t', expected one of: w6x2_d5x2t, w5x2_d5x2j, w4x2_d4x3t, w8x3_d8x3t, w6x4_d6x3j
// THREADS: error: --ssprop-threads must be >= 1, got 0

func.func @not_lowered(%dy: tensor<2x4x4x4xf32>, %x: tensor<2x4x4x4xf32>, %w: tensor<4x4x1x1xf32>)
    -> tensor<4x4x1x1xf32> {
  // expected-error@+1 {{'ssprop.conv2d_backward' op is not supported by the CPU emitter, which takes the output of --ssprop-lower-to-gemm}}
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [0, 0]
      dilation = [1, 1] groups = 1 sparsity = <keep = 0.5, select = topk>
      : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>)
  return %gw : tensor<4x4x1x1xf32>
}

// -----

func.func @scatter_of_argument(%rows: tensor<2x3xf32>, %kept: tensor<2xi32>) -> tensor<4x3xf32> {
  // expected-error@+1 {{'ssprop.scatter_channels' op scatters rows that are not a gathered wgrad or channel_sum; the CPU emitter cannot place them}}
  %out = ssprop.scatter_channels %rows, %kept : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<4x3xf32>
  return %out : tensor<4x3xf32>
}

// -----

func.func @returns_argument(%score: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error@+1 {{'func.return' op returns value #0, which is an argument or already returned; the CPU emitter needs each result computed once}}
  return %score : tensor<8xf32>
}

// -----

// expected-error@+1 {{'func.func' op has a value of type 'tensor<?x8x4x4xf32>'; the CPU emitter needs statically shaped tensors}}
func.func @dynamic_argument(%dy: tensor<?x8x4x4xf32>) -> tensor<8xf32> {
  %score = ssprop.channel_score %dy : tensor<?x8x4x4xf32> -> tensor<8xf32>
  return %score : tensor<8xf32>
}

// -----

// expected-error@+1 {{'func.func' op has an f16 tensor; the CPU emitter generates f32 and bf16 kernels}}
func.func @half(%dy: tensor<2x8x4x4xf16>) -> tensor<8xf32> {
  %score = ssprop.channel_score %dy : tensor<2x8x4x4xf16> -> tensor<8xf32>
  return %score : tensor<8xf32>
}

// -----

// A 192x192 plane: its mask tables would exceed what a kernel carries.
func.func @huge_plane(%x: tensor<1x1x192x192xf32>, %dy: tensor<1x2x192x192xf32>) -> tensor<2x1x3x3xf32> {
  // expected-error@+1 {{'ssprop.wgrad' op cannot be generated for the CPU: its planes need 331776 mask entries, more than the 262144 the CPU kernels carry}}
  %rows = ssprop.wgrad %x, %dy stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 2, n = 9, k = 36864, acc = f32, addressing = im2col>
      : (tensor<1x1x192x192xf32>, tensor<1x2x192x192xf32>) -> tensor<2x1x3x3xf32>
  return %rows : tensor<2x1x3x3xf32>
}
