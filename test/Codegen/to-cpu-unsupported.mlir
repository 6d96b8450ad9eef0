// Geometry the CPU kernels are not generated for is a located error before
// any table is sized by it (a stride of 2^62 once exhausted memory; found by
// the fuzzer). The CUDA emitter still takes such layers.
// RUN: ssprop-opt %s --ssprop-lower-to-gemm | not ssprop-translate --ssprop-to-cpu 2>&1 \
// RUN:   | FileCheck %s
// RUN: ssprop-opt %s --ssprop-lower-to-gemm | ssprop-translate --ssprop-to-cuda | FileCheck %s --check-prefix=CUDA

// CHECK: error: 'ssprop.wgrad' op cannot be generated for the CPU: its stride 4611686018427387904 is larger than the 16 the CPU kernels are generated for
// CUDA: // ===== @huge_stride for sm_90

func.func @huge_stride(%dy: tensor<2x48x1x1xf32>, %x: tensor<2x9x5x3xf32>, %w: tensor<48x3x3x3xf32>)
    -> (tensor<2x9x5x3xf32>, tensor<48x3x3x3xf32>, tensor<48xf32>) {
  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [4611686018427387904, 1] padding = [0, 0]
      dilation = [2, 1] groups = 3 sparsity = <keep = 0.5, select = topk>
      : (tensor<2x48x1x1xf32>, tensor<2x9x5x3xf32>, tensor<48x3x3x3xf32>)
      -> (tensor<2x9x5x3xf32>, tensor<48x3x3x3xf32>, tensor<48xf32>)
  return %r#0, %r#1, %r#2 : tensor<2x9x5x3xf32>, tensor<48x3x3x3xf32>, tensor<48xf32>
}
