//===- Passes.td - ssprop pass definitions -----------------*- tablegen -*-===//

#ifndef SSPROP_TRANSFORMS_PASSES_TD
#define SSPROP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SSPropLowerToGemmPass : Pass<"ssprop-lower-to-gemm"> {
  let summary = "Lower conv2d_backward to channel selection and gathered GEMMs";
  let description = [{
    Rewrites every `ssprop.conv2d_backward` into the mid-level ops the code
    generator consumes, making each step of the sparse backward explicit:

    1. scoring and selection of the `k = max(floor(keep * Cout), 1)` kept
       channels: `ssprop.channel_score` + `ssprop.select_topk`, or
       `ssprop.random_seed` + `ssprop.select_random`;
    2. the bias gradient: `ssprop.channel_sum` of the kept channels, placed by
       `ssprop.scatter_channels` (zero elsewhere);
    3. the weight gradient: `ssprop.wgrad` computes one row per kept channel,
       placed by `ssprop.scatter_channels`;
    4. the input gradient: `ssprop.dgrad` reading the kept channels only (all
       of them when `grads = weight_only`). For grouped convolutions the kept
       channels fall unevenly across groups, so `ssprop.group_offsets` gives
       each group its own slice of the ascending index list.

    When every channel is kept (`keep = 1`, or `k = Cout`), the backward is
    lowered dense: no scoring, no selection, no scatter. A gradient with no
    uses is not computed (the input gradient of a network's first layer).
    Accumulation is in f32 (`acc` of `ssprop.gemm`); gathered f16/bf16 weight
    rows and bias sums stay f32 until `ssprop.scatter_channels` converts them.

    Every shape must be static: the GEMM sizes are compile-time constants.

    Before:

    ```mlir
    %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        sparsity = <keep = 0.4, select = topk>
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
    ```

    After:

    ```mlir
    %score = ssprop.channel_score %dy : tensor<8x16x32x32xf32> -> tensor<16xf32>
    %kept = ssprop.select_topk %score k = 6 : tensor<16xf32> -> tensor<6xi32>
    %sums = ssprop.channel_sum %dy gather %kept acc = f32
        : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>
    %gb = ssprop.scatter_channels %sums, %kept
        : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>
    %rows = ssprop.wgrad %x, %dy gather %kept
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>)
        -> tensor<6x16x3x3xf32>
    %gw = ssprop.scatter_channels %rows, %kept
        : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>
    %gi = ssprop.dgrad %dy, %w gather %kept
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
        : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>)
        -> tensor<8x16x32x32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::ssprop::SSPropDialect"];
}

#endif // SSPROP_TRANSFORMS_PASSES_TD
