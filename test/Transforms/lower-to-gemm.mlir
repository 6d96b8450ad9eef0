// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file | FileCheck %s
// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file \
// RUN:   | ssprop-opt -split-input-file | FileCheck %s
// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file --mlir-print-op-generic \
// RUN:   | ssprop-opt -split-input-file | FileCheck %s
// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file \
// RUN:   | FileCheck %s --check-prefix=NOSEL
// RUN: ssprop-opt %s --ssprop-lower-to-gemm -split-input-file \
// RUN:   | FileCheck %s --check-prefix=NOCONV

// --ssprop-lower-to-gemm on single convolutions and a small network. The
// CHECK lines pin every op of each lowered function, in order, with its
// operands, attributes and types. The second and third RUN lines parse the
// output back (custom and generic form), so every lowered function verifies.
//
// k = max(floor(keep * Cout), 1) channels are kept. The dgrad GEMM is batched
// per group: m = N*H*W, n = Cin/groups, k = min(kept, Cout/groups)*KH*KW
// (gathered) or Cout/groups*KH*KW (dense). The wgrad GEMM: m = rows,
// n = Cin/groups*KH*KW, k = N*Ho*Wo. Addressing is plain for a 1x1, stride 1,
// padding 0 convolution and im2col otherwise.
//
// The NOSEL prefix checks that the dense cases, and those whose used results
// need no selection, hold no scoring, selection, gather or scatter.
//
// The NOCONV prefix checks that no ssprop.conv2d_backward is left anywhere.
// NOCONV-NOT: ssprop.conv2d_backward

// keep = 1 keeps every channel: the dense backward, with no scoring, no
// selection and no scatter. dgrad: m = N*H*W = 8*32*32 = 8192, n = Cin = 16,
// k = Cout*KH*KW = 16*9 = 144; wgrad: m = Cout = 16, n = 16*9 = 144,
// k = N*Ho*Wo = 8192. The dense weight rows and bias sums are in the element
// type.
// NOSEL-LABEL: func.func @dense_keep1_topk(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @dense_keep1_topk(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @dense_keep1_topk(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// keep = 1 with select = random is dense too: no random_seed, no select_random.
// NOSEL-LABEL: func.func @dense_keep1_random(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @dense_keep1_random(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @dense_keep1_random(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// topk at keep 0.4: k = floor(0.4 * 16) = 6. dgrad k = 6*9 = 54; wgrad m = 6.
// The gathered bias sums and weight rows are f32 until the scatter.
// CHECK-LABEL: func.func @topk_keep_0_4(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @topk_keep_0_4(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// random at keep 0.5: k = 8 of 16, from a fresh seed. dgrad k = 8*9 = 72.
// CHECK-LABEL: func.func @random_keep_0_5(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SEED:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_random %[[SEED]] k = 8 of 16 : tensor<8xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8xi32>) -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<8xf32>, tensor<8xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<8xi32>) -> tensor<8x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<8x16x3x3xf32>, tensor<8xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<8xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @random_keep_0_5(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// grads = weight_only: the weight and bias gradients are gathered, the input
// gradient is dense (no gather, k = 16*9 = 144).
// CHECK-LABEL: func.func @weight_only(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @weight_only(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk, grads = weight_only>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// grads = weight_only at keep 1: everything dense, nothing selected.
// NOSEL-LABEL: func.func @weight_only_dense(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @weight_only_dense(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @weight_only_dense(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = random, grads = weight_only>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// 1x1, stride 1, padding 0: plain addressing in both GEMMs.
// k = floor(0.4 * 128) = 51. dgrad: m = 8*7*7 = 392, n = 64, k = 51*1*1 = 51;
// wgrad: m = 51, n = 64*1*1 = 64, k = 8*7*7 = 392.
// CHECK-LABEL: func.func @pointwise_plain(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x128x7x7xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x64x7x7xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<128x64x1x1xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x128x7x7xf32> -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 51 : tensor<128xf32> -> tensor<51xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x128x7x7xf32>, tensor<51xi32>) -> tensor<51xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51xf32>, tensor<51xi32>) -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 51, n = 64, k = 392, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<8x64x7x7xf32>, tensor<8x128x7x7xf32>, tensor<51xi32>) -> tensor<51x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51x64x1x1xf32>, tensor<51xi32>) -> tensor<128x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 392, n = 64, k = 51, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<8x128x7x7xf32>, tensor<128x64x1x1xf32>, tensor<51xi32>) -> tensor<8x64x7x7xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>{{$}}
func.func @pointwise_plain(%dy: tensor<8x128x7x7xf32>, %x: tensor<8x64x7x7xf32>,
    %w: tensor<128x64x1x1xf32>)
    -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x128x7x7xf32>, tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>)
      -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>)
  return %gi, %gw, %gb
      : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>
}

// -----

// 1x1 with stride 2 is not a plain GEMM: im2col. Ho = Wo = (7-1)/2+1 = 4,
// so wgrad k = 8*4*4 = 128; dgrad m = 8*7*7 = 392.
// CHECK-LABEL: func.func @pointwise_stride2_im2col(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x128x4x4xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x64x7x7xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<128x64x1x1xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x128x4x4xf32> -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 51 : tensor<128xf32> -> tensor<51xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x128x4x4xf32>, tensor<51xi32>) -> tensor<51xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51xf32>, tensor<51xi32>) -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 51, n = 64, k = 128, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x64x7x7xf32>, tensor<8x128x4x4xf32>, tensor<51xi32>) -> tensor<51x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51x64x1x1xf32>, tensor<51xi32>) -> tensor<128x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 392, n = 64, k = 51, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x128x4x4xf32>, tensor<128x64x1x1xf32>, tensor<51xi32>) -> tensor<8x64x7x7xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>{{$}}
func.func @pointwise_stride2_im2col(%dy: tensor<8x128x4x4xf32>, %x: tensor<8x64x7x7xf32>,
    %w: tensor<128x64x1x1xf32>)
    -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x128x4x4xf32>, tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>)
      -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>)
  return %gi, %gw, %gb
      : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>
}

// -----

// 1x1 with padding 1 is not a plain GEMM either: im2col. Ho = Wo = 9,
// wgrad k = 8*9*9 = 648.
// CHECK-LABEL: func.func @pointwise_padding_im2col(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x128x9x9xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x64x7x7xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<128x64x1x1xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x128x9x9xf32> -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 51 : tensor<128xf32> -> tensor<51xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x128x9x9xf32>, tensor<51xi32>) -> tensor<51xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51xf32>, tensor<51xi32>) -> tensor<128xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 51, n = 64, k = 648, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x64x7x7xf32>, tensor<8x128x9x9xf32>, tensor<51xi32>) -> tensor<51x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<51x64x1x1xf32>, tensor<51xi32>) -> tensor<128x64x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 392, n = 64, k = 51, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x128x9x9xf32>, tensor<128x64x1x1xf32>, tensor<51xi32>) -> tensor<8x64x7x7xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>{{$}}
func.func @pointwise_padding_im2col(%dy: tensor<8x128x9x9xf32>, %x: tensor<8x64x7x7xf32>,
    %w: tensor<128x64x1x1xf32>)
    -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x128x9x9xf32>, tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>)
      -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>)
  return %gi, %gw, %gb
      : tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>
}

// -----

// 3x3, stride 2, padding 1, 32x32 -> 16x16, Cout 32: k = floor(12.8) = 12.
// dgrad: m = 8*32*32 = 8192, n = 16, k = 12*9 = 108; wgrad: m = 12, n = 144,
// k = 8*16*16 = 2048.
// CHECK-LABEL: func.func @stride2_padding(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x32x16x16xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x32x16x16xf32> -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 12 : tensor<32xf32> -> tensor<12xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x32x16x16xf32>, tensor<12xi32>) -> tensor<12xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12xf32>, tensor<12xi32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 12, n = 144, k = 2048, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x32x16x16xf32>, tensor<12xi32>) -> tensor<12x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12x16x3x3xf32>, tensor<12xi32>) -> tensor<32x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 108, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x32x16x16xf32>, tensor<32x16x3x3xf32>, tensor<12xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>{{$}}
func.func @stride2_padding(%dy: tensor<8x32x16x16xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<32x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x32x16x16xf32>, tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>
}

// -----

// Dilation 2, 32x32 -> 28x28, keep 0.5 of 8: k = 4. dgrad: m = 2*32*32 = 2048,
// n = 8, k = 4*9 = 36; wgrad: m = 4, n = 72, k = 2*28*28 = 1568.
// CHECK-LABEL: func.func @dilation2(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x28x28xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x8x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<8x8x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<2x8x28x28xf32> -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 4 : tensor<8xf32> -> tensor<4xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x8x28x28xf32>, tensor<4xi32>) -> tensor<4xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<4xf32>, tensor<4xi32>) -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 4, n = 72, k = 1568, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x8x32x32xf32>, tensor<2x8x28x28xf32>, tensor<4xi32>) -> tensor<4x8x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<4x8x3x3xf32>, tensor<4xi32>) -> tensor<8x8x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 2048, n = 8, k = 36, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x8x28x28xf32>, tensor<8x8x3x3xf32>, tensor<4xi32>) -> tensor<2x8x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>{{$}}
func.func @dilation2(%dy: tensor<2x8x28x28xf32>, %x: tensor<2x8x32x32xf32>,
    %w: tensor<8x8x3x3xf32>)
    -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x8x28x28xf32>, tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>)
      -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>)
  return %gi, %gw, %gb
      : tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>
}

// -----

// Non-square 3x5 kernel with padding [1, 2]: 20x24 -> 20x24. k = 6.
// dgrad: m = 4*20*24 = 1920, n = 8, k = 6*3*5 = 90; wgrad: m = 6, n = 8*15 = 120,
// k = 1920.
// CHECK-LABEL: func.func @kernel_3x5(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<4x16x20x24xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<4x8x20x24xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x8x3x5xf32>
// CHECK-SAME:      {{^}}) -> (tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<4x16x20x24xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<4x16x20x24xf32>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 2] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 120, k = 1920, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<4x8x20x24xf32>, tensor<4x16x20x24xf32>, tensor<6xi32>) -> tensor<6x8x3x5xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x8x3x5xf32>, tensor<6xi32>) -> tensor<16x8x3x5xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 2] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 1920, n = 8, k = 90, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<4x16x20x24xf32>, tensor<16x8x3x5xf32>, tensor<6xi32>) -> tensor<4x8x20x24xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>{{$}}
func.func @kernel_3x5(%dy: tensor<4x16x20x24xf32>, %x: tensor<4x8x20x24xf32>,
    %w: tensor<16x8x3x5xf32>)
    -> (tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 2] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<4x16x20x24xf32>, tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>)
      -> (tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>
}

// -----

// Odd sizes with stride 2 and padding [0, 1]: 7x9 -> 3x5. keep 0.5 of 4: k = 2.
// dgrad: m = 1*7*9 = 63, n = 3, k = 2*9 = 18; wgrad: m = 2, n = 27, k = 1*3*5 = 15.
// CHECK-LABEL: func.func @odd_spatial_stride2(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<1x4x3x5xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<1x3x7x9xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<4x3x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<1x4x3x5xf32> -> tensor<4xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 2 : tensor<4xf32> -> tensor<2xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<1x4x3x5xf32>, tensor<2xi32>) -> tensor<2xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<2xf32>, tensor<2xi32>) -> tensor<4xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [2, 2] padding = [0, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 2, n = 27, k = 15, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<1x3x7x9xf32>, tensor<1x4x3x5xf32>, tensor<2xi32>) -> tensor<2x3x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<2x3x3x3xf32>, tensor<2xi32>) -> tensor<4x3x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [2, 2] padding = [0, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 63, n = 3, k = 18, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<1x4x3x5xf32>, tensor<4x3x3x3xf32>, tensor<2xi32>) -> tensor<1x3x7x9xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>{{$}}
func.func @odd_spatial_stride2(%dy: tensor<1x4x3x5xf32>, %x: tensor<1x3x7x9xf32>,
    %w: tensor<4x3x3x3xf32>)
    -> (tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [0, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<1x4x3x5xf32>, tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>)
      -> (tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>)
  return %gi, %gw, %gb : tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
}

// -----

// groups = 4 (Cin 16, Cout 32, 8 output channels per group), keep 0.4: k = 12.
// The 12 kept channels may fall unevenly across the groups: group_offsets
// (groups = 4, size = 8) gives each group its slice, and the dgrad GEMM is
// batched per group with k = min(12, 8)*9 = 72, n = 16/4 = 4, m = 2*14*14 = 392.
// wgrad: m = 12, n = 4*9 = 36, k = 392, unbatched.
// CHECK-LABEL: func.func @groups4_uneven(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x4x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<2x32x14x14xf32> -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 12 : tensor<32xf32> -> tensor<12xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12xf32>, tensor<12xi32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <m = 12, n = 36, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12x4x3x3xf32>, tensor<12xi32>) -> tensor<32x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[OFFSETS:[^ ]+]] = ssprop.group_offsets %[[KEPT]] groups = 4 size = 8 : tensor<12xi32> -> tensor<5xi32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] group_offsets %[[OFFSETS]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>{{$}}
func.func @groups4_uneven(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x16x14x14xf32>,
    %w: tensor<32x4x3x3xf32>)
    -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>)
  return %gi, %gw, %gb
      : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>
}

// -----

// groups = 4 with fewer kept channels than a group holds: k = floor(3.2) = 3,
// dgrad k = min(3, 8)*9 = 27.
// CHECK-LABEL: func.func @groups4_few_kept(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x4x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {{\{$}}
// CHECK-NEXT:    %[[SEED:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_random %[[SEED]] k = 3 of 32 : tensor<3xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<3xi32>) -> tensor<3xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<3xf32>, tensor<3xi32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <m = 3, n = 36, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<3xi32>) -> tensor<3x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<3x4x3x3xf32>, tensor<3xi32>) -> tensor<32x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[OFFSETS:[^ ]+]] = ssprop.group_offsets %[[KEPT]] groups = 4 size = 8 : tensor<3xi32> -> tensor<5xi32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] group_offsets %[[OFFSETS]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 27, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<3xi32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>{{$}}
func.func @groups4_few_kept(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x16x14x14xf32>,
    %w: tensor<32x4x3x3xf32>)
    -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.1, select = random>
      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>)
  return %gi, %gw, %gb
      : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>
}

// -----

// Grouped and dense: batched dgrad (k = 8*9 = 72) without group_offsets.
// NOSEL-LABEL: func.func @groups4_dense(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @groups4_dense(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x4x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <m = 32, n = 36, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>) -> tensor<32x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>{{$}}
func.func @groups4_dense(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x16x14x14xf32>,
    %w: tensor<32x4x3x3xf32>)
    -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 1.0, select = topk>
      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>)
  return %gi, %gw, %gb
      : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>
}

// -----

// Grouped with grads = weight_only: dense, batched dgrad, no group_offsets.
// CHECK-LABEL: func.func @groups4_weight_only(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x4x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<2x32x14x14xf32> -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 12 : tensor<32xf32> -> tensor<12xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12xf32>, tensor<12xi32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <m = 12, n = 36, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<12x4x3x3xf32>, tensor<12xi32>) -> tensor<32x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>{{$}}
func.func @groups4_weight_only(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x16x14x14xf32>,
    %w: tensor<32x4x3x3xf32>)
    -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk, grads = weight_only>
      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>)
  return %gi, %gw, %gb
      : tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>
}

// -----

// Depthwise: groups = Cin = Cout = 8, keep 0.5: k = 4. group_offsets with
// groups = 8, size = 1; dgrad batch = 8, n = 1, k = min(4, 1)*9 = 9;
// wgrad: m = 4, n = 1*9 = 9, k = 2*14*14 = 392.
// CHECK-LABEL: func.func @depthwise(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x14x14xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x8x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<8x1x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<2x8x14x14xf32> -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 4 : tensor<8xf32> -> tensor<4xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x8x14x14xf32>, tensor<4xi32>) -> tensor<4xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<4xf32>, tensor<4xi32>) -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 8
// CHECK-SAME:      {{^}} gemm = <m = 4, n = 9, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x8x14x14xf32>, tensor<2x8x14x14xf32>, tensor<4xi32>) -> tensor<4x1x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<4x1x3x3xf32>, tensor<4xi32>) -> tensor<8x1x3x3xf32>{{$}}
// CHECK-NEXT:    %[[OFFSETS:[^ ]+]] = ssprop.group_offsets %[[KEPT]] groups = 8 size = 1 : tensor<4xi32> -> tensor<9xi32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] group_offsets %[[OFFSETS]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 8
// CHECK-SAME:      {{^}} gemm = <batch = 8, m = 392, n = 1, k = 9, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<4xi32>, tensor<9xi32>) -> tensor<2x8x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>{{$}}
func.func @depthwise(%dy: tensor<2x8x14x14xf32>, %x: tensor<2x8x14x14xf32>,
    %w: tensor<8x1x3x3xf32>)
    -> (tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 8
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x8x14x14xf32>, tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>)
      -> (tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>)
  return %gi, %gw, %gb
      : tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>
}

// -----

// keep 0.01 of 16: floor(0.16) = 0, raised to k = 1. dgrad k = 9, wgrad m = 1.
// CHECK-LABEL: func.func @k_one(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 1 : tensor<16xf32> -> tensor<1xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<1xi32>) -> tensor<1xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<1xf32>, tensor<1xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 1, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<1xi32>) -> tensor<1x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<1x16x3x3xf32>, tensor<1xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 9, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<1xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @k_one(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.01, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// Cout = 1 at keep 0.5: k = max(floor(0.5), 1) = 1 = Cout, so the lowering is
// dense although keep < 1. dgrad: m = 2*8*8 = 128, n = 4, k = 9; wgrad: m = 1,
// n = 36, k = 128.
// NOSEL-LABEL: func.func @k_equals_cout(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @k_equals_cout(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x1x8x8xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x4x8x8xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<1x4x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>, tensor<1xf32>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x1x8x8xf32>) -> tensor<1xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 1, n = 36, k = 128, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x4x8x8xf32>, tensor<2x1x8x8xf32>) -> tensor<1x4x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 128, n = 4, k = 9, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x1x8x8xf32>, tensor<1x4x3x3xf32>) -> tensor<2x4x8x8xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>, tensor<1xf32>{{$}}
func.func @k_equals_cout(%dy: tensor<2x1x8x8xf32>, %x: tensor<2x4x8x8xf32>,
    %w: tensor<1x4x3x3xf32>)
    -> (tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>, tensor<1xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk>
      : (tensor<2x1x8x8xf32>, tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>)
      -> (tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>, tensor<1xf32>)
  return %gi, %gw, %gb : tensor<2x4x8x8xf32>, tensor<1x4x3x3xf32>, tensor<1xf32>
}

// -----

// keep 0.29 of 100: 0.29 * 100 = 28.999999999999996 in double, so k = 28 (not 29).
// 1x1: dgrad m = 2*4*4 = 32, n = 8, k = 28; wgrad m = 28, n = 8, k = 32.
// CHECK-LABEL: func.func @keep_floor(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x100x4x4xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<2x8x4x4xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<100x8x1x1xf32>
// CHECK-SAME:      {{^}}) -> (tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>, tensor<100xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<2x100x4x4xf32> -> tensor<100xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 28 : tensor<100xf32> -> tensor<28xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x100x4x4xf32>, tensor<28xi32>) -> tensor<28xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<28xf32>, tensor<28xi32>) -> tensor<100xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 28, n = 8, k = 32, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<2x8x4x4xf32>, tensor<2x100x4x4xf32>, tensor<28xi32>) -> tensor<28x8x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<28x8x1x1xf32>, tensor<28xi32>) -> tensor<100x8x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 32, n = 8, k = 28, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<2x100x4x4xf32>, tensor<100x8x1x1xf32>, tensor<28xi32>) -> tensor<2x8x4x4xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>, tensor<100xf32>{{$}}
func.func @keep_floor(%dy: tensor<2x100x4x4xf32>, %x: tensor<2x8x4x4xf32>,
    %w: tensor<100x8x1x1xf32>)
    -> (tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>, tensor<100xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.29, select = topk>
      : (tensor<2x100x4x4xf32>, tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>)
      -> (tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>, tensor<100xf32>)
  return %gi, %gw, %gb
      : tensor<2x8x4x4xf32>, tensor<100x8x1x1xf32>, tensor<100xf32>
}

// -----

// f16: the score is f32, the gathered sums and weight rows are f32 and the
// scatters convert them to f16; dgrad returns f16; both GEMMs accumulate in f32.
// CHECK-LABEL: func.func @f16_topk(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf16>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf16> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf16>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf16>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<6xi32>) -> tensor<8x16x32x32xf16>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>{{$}}
func.func @f16_topk(%dy: tensor<8x16x32x32xf16>, %x: tensor<8x16x32x32xf16>,
    %w: tensor<16x16x3x3xf16>)
    -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>)
      -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>
}

// -----

// bf16 with random selection: as for f16, the scatters convert f32 to bf16.
// CHECK-LABEL: func.func @bf16_random(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xbf16>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xbf16>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xbf16>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>) {{\{$}}
// CHECK-NEXT:    %[[SEED:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_random %[[SEED]] k = 8 of 16 : tensor<8xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xbf16>, tensor<8xi32>) -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<8xf32>, tensor<8xi32>) -> tensor<16xbf16>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xbf16>, tensor<8x16x32x32xbf16>, tensor<8xi32>) -> tensor<8x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<8x16x3x3xf32>, tensor<8xi32>) -> tensor<16x16x3x3xbf16>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<8xi32>) -> tensor<8x16x32x32xbf16>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>{{$}}
func.func @bf16_random(%dy: tensor<8x16x32x32xbf16>, %x: tensor<8x16x32x32xbf16>,
    %w: tensor<16x16x3x3xbf16>)
    -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = random>
      : (tensor<8x16x32x32xbf16>, tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>)
      -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>
}

// -----

// f16 at keep 1: the dense channel_sum and wgrad return f16 directly (acc f32).
// NOSEL-LABEL: func.func @f16_dense(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @f16_dense(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf16>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>) {{\{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>) -> tensor<16xf16>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>) -> tensor<16x16x3x3xf16>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>) -> tensor<8x16x32x32xf16>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]], %[[GB]] : tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>{{$}}
func.func @f16_dense(%dy: tensor<8x16x32x32xf16>, %x: tensor<8x16x32x32xf16>,
    %w: tensor<16x16x3x3xf16>)
    -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>)
      -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>)
  return %gi, %gw, %gb
      : tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>
}

// -----

// grad_input unused: no dgrad.
// CHECK-LABEL: func.func @unused_grad_input(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<16x16x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[GW]], %[[GB]] : tensor<16x16x3x3xf32>, tensor<16xf32>{{$}}
func.func @unused_grad_input(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> (tensor<16x16x3x3xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gw, %gb : tensor<16x16x3x3xf32>, tensor<16xf32>
}

// -----

// grad_bias unused: no channel_sum; the selection comes first for the wgrad.
// CHECK-LABEL: func.func @unused_grad_bias(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GW]] : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>{{$}}
func.func @unused_grad_bias(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>)
    -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gw : tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>
}

// -----

// grad_weight unused: no wgrad.
// CHECK-LABEL: func.func @unused_grad_weight(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> (tensor<8x16x32x32xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SEED:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_random %[[SEED]] k = 6 of 16 : tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[SUMS:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[KEPT]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[GB:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[KEPT]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]], %[[GB]] : tensor<8x16x32x32xf32>, tensor<16xf32>{{$}}
func.func @unused_grad_weight(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> (tensor<8x16x32x32xf32>, tensor<16xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi, %gb : tensor<8x16x32x32xf32>, tensor<16xf32>
}

// -----

// Only grad_input used: the selection and a gathered dgrad.
// CHECK-LABEL: func.func @only_grad_input(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> tensor<8x16x32x32xf32> {{\{$}}
// CHECK-NEXT:    %[[SCORE:[^ ]+]] = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf32> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[KEPT:[^ ]+]] = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[KEPT]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x16x32x32xf32>{{$}}
func.func @only_grad_input(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> (tensor<8x16x32x32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi : tensor<8x16x32x32xf32>
}

// -----

// Only grad_input used with grads = weight_only: a dense dgrad, nothing selected.
// NOSEL-LABEL: func.func @only_grad_input_weight_only(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @only_grad_input_weight_only(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> tensor<8x16x32x32xf32> {{\{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x16x32x32xf32>{{$}}
func.func @only_grad_input_weight_only(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) -> (tensor<8x16x32x32xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk, grads = weight_only>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return %gi : tensor<8x16x32x32xf32>
}

// -----

// No result used: nothing is emitted, not even a selection.
// NOSEL-LABEL: func.func @all_unused(
// NOSEL-NOT:     ssprop.channel_score
// NOSEL-NOT:     ssprop.select_topk
// NOSEL-NOT:     ssprop.random_seed
// NOSEL-NOT:     ssprop.select_random
// NOSEL-NOT:     ssprop.group_offsets
// NOSEL-NOT:     ssprop.scatter_channels
// NOSEL-NOT:     gather
// NOSEL:         return
// CHECK-LABEL: func.func @all_unused(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) {{\{$}}
// CHECK-NEXT:    return{{$}}
func.func @all_unused(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// The backward of a 3-layer network (conv1 3->16 3x3, conv2 16->32 3x3
// stride 2, conv3 32->64 1x1), last layer first: each grad_input is the next
// grad_output. Every layer has its own selection; the two random layers draw
// two distinct seeds. conv1's grad_input is unused: no dgrad for it.
// CHECK-LABEL: func.func @network(
// CHECK-SAME:      %[[DY3:[^:]+]]: tensor<2x64x8x8xf32>,
// CHECK-SAME:      {{^}} %[[X1:[^:]+]]: tensor<2x3x16x16xf32>,
// CHECK-SAME:      {{^}} %[[W1:[^:]+]]: tensor<16x3x3x3xf32>,
// CHECK-SAME:      {{^}} %[[X2:[^:]+]]: tensor<2x16x16x16xf32>,
// CHECK-SAME:      {{^}} %[[W2:[^:]+]]: tensor<32x16x3x3xf32>,
// CHECK-SAME:      {{^}} %[[X3:[^:]+]]: tensor<2x32x8x8xf32>,
// CHECK-SAME:      {{^}} %[[W3:[^:]+]]: tensor<64x32x1x1xf32>
// CHECK-SAME:      {{^}}) -> (tensor<64x32x1x1xf32>, tensor<64xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[SEED3:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT3:[^ ]+]] = ssprop.select_random %[[SEED3]] k = 16 of 64 : tensor<16xi32>{{$}}
// CHECK-NEXT:    %[[SUMS3:[^ ]+]] = ssprop.channel_sum %[[DY3]] gather %[[KEPT3]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x64x8x8xf32>, tensor<16xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[GB3:[^ ]+]] = ssprop.scatter_channels %[[SUMS3]], %[[KEPT3]]
// CHECK-SAME:      {{^}} : (tensor<16xf32>, tensor<16xi32>) -> tensor<64xf32>{{$}}
// CHECK-NEXT:    %[[ROWS3:[^ ]+]] = ssprop.wgrad %[[X3]], %[[DY3]] gather %[[KEPT3]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 32, k = 128, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<2x32x8x8xf32>, tensor<2x64x8x8xf32>, tensor<16xi32>) -> tensor<16x32x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW3:[^ ]+]] = ssprop.scatter_channels %[[ROWS3]], %[[KEPT3]]
// CHECK-SAME:      {{^}} : (tensor<16x32x1x1xf32>, tensor<16xi32>) -> tensor<64x32x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI3:[^ ]+]] = ssprop.dgrad %[[DY3]], %[[W3]] gather %[[KEPT3]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 128, n = 32, k = 16, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<2x64x8x8xf32>, tensor<64x32x1x1xf32>, tensor<16xi32>) -> tensor<2x32x8x8xf32>{{$}}
// CHECK-NEXT:    %[[SCORE2:[^ ]+]] = ssprop.channel_score %[[GI3]] : tensor<2x32x8x8xf32> -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[KEPT2:[^ ]+]] = ssprop.select_topk %[[SCORE2]] k = 12 : tensor<32xf32> -> tensor<12xi32>{{$}}
// CHECK-NEXT:    %[[SUMS2:[^ ]+]] = ssprop.channel_sum %[[GI3]] gather %[[KEPT2]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x32x8x8xf32>, tensor<12xi32>) -> tensor<12xf32>{{$}}
// CHECK-NEXT:    %[[GB2:[^ ]+]] = ssprop.scatter_channels %[[SUMS2]], %[[KEPT2]]
// CHECK-SAME:      {{^}} : (tensor<12xf32>, tensor<12xi32>) -> tensor<32xf32>{{$}}
// CHECK-NEXT:    %[[ROWS2:[^ ]+]] = ssprop.wgrad %[[X2]], %[[GI3]] gather %[[KEPT2]] stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 12, n = 144, k = 128, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x16x16xf32>, tensor<2x32x8x8xf32>, tensor<12xi32>) -> tensor<12x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW2:[^ ]+]] = ssprop.scatter_channels %[[ROWS2]], %[[KEPT2]]
// CHECK-SAME:      {{^}} : (tensor<12x16x3x3xf32>, tensor<12xi32>) -> tensor<32x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI2:[^ ]+]] = ssprop.dgrad %[[GI3]], %[[W2]] gather %[[KEPT2]] stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 512, n = 16, k = 108, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x8x8xf32>, tensor<32x16x3x3xf32>, tensor<12xi32>) -> tensor<2x16x16x16xf32>{{$}}
// CHECK-NEXT:    %[[SEED1:[^ ]+]] = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %[[KEPT1:[^ ]+]] = ssprop.select_random %[[SEED1]] k = 8 of 16 : tensor<8xi32>{{$}}
// CHECK-NEXT:    %[[SUMS1:[^ ]+]] = ssprop.channel_sum %[[GI2]] gather %[[KEPT1]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<2x16x16x16xf32>, tensor<8xi32>) -> tensor<8xf32>{{$}}
// CHECK-NEXT:    %[[GB1:[^ ]+]] = ssprop.scatter_channels %[[SUMS1]], %[[KEPT1]]
// CHECK-SAME:      {{^}} : (tensor<8xf32>, tensor<8xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[ROWS1:[^ ]+]] = ssprop.wgrad %[[X1]], %[[GI2]] gather %[[KEPT1]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8, n = 27, k = 512, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x3x16x16xf32>, tensor<2x16x16x16xf32>, tensor<8xi32>) -> tensor<8x3x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW1:[^ ]+]] = ssprop.scatter_channels %[[ROWS1]], %[[KEPT1]]
// CHECK-SAME:      {{^}} : (tensor<8x3x3x3xf32>, tensor<8xi32>) -> tensor<16x3x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[GW3]], %[[GB3]], %[[GW2]], %[[GB2]], %[[GW1]], %[[GB1]] : tensor<64x32x1x1xf32>, tensor<64xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>{{$}}
func.func @network(%dy3: tensor<2x64x8x8xf32>, %x1: tensor<2x3x16x16xf32>,
    %w1: tensor<16x3x3x3xf32>, %x2: tensor<2x16x16x16xf32>,
    %w2: tensor<32x16x3x3xf32>, %x3: tensor<2x32x8x8xf32>,
    %w3: tensor<64x32x1x1xf32>)
    -> (tensor<64x32x1x1xf32>, tensor<64xf32>, tensor<32x16x3x3xf32>,
        tensor<32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) {
  %gi3, %gw3, %gb3 = ssprop.conv2d_backward %dy3, %x3, %w3
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.25, select = random>
      : (tensor<2x64x8x8xf32>, tensor<2x32x8x8xf32>, tensor<64x32x1x1xf32>)
      -> (tensor<2x32x8x8xf32>, tensor<64x32x1x1xf32>, tensor<64xf32>)
  %gi2, %gw2, %gb2 = ssprop.conv2d_backward %gi3, %x2, %w2
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x32x8x8xf32>, tensor<2x16x16x16xf32>, tensor<32x16x3x3xf32>)
      -> (tensor<2x16x16x16xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>)
  %gi1, %gw1, %gb1 = ssprop.conv2d_backward %gi2, %x1, %w1
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = random>
      : (tensor<2x16x16x16xf32>, tensor<2x3x16x16xf32>, tensor<16x3x3x3xf32>)
      -> (tensor<2x3x16x16xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>)
  return %gw3, %gb3, %gw2, %gb2, %gw1, %gb1
      : tensor<64x32x1x1xf32>, tensor<64xf32>, tensor<32x16x3x3xf32>,
        tensor<32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
}

// -----

// A grad_weight result less static than the weight: the GEMM sizes come from
// the weight, the replacements keep the result's type.
// CHECK-LABEL: func.func @dynamic_grad_weight_type(
func.func @dynamic_grad_weight_type(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
                                    %w: tensor<16x16x3x3xf32>)
    -> (tensor<16x?x3x3xf32>, tensor<16x?x3x3xf32>) {
  // CHECK: %[[ROWS:.*]] = ssprop.wgrad %{{.*}}, %{{.*}} gather %[[KEPT:.*]] stride
  // CHECK-SAME: gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
  // CHECK-SAME: -> tensor<6x16x3x3xf32>
  // CHECK: ssprop.scatter_channels %[[ROWS]], %[[KEPT]]
  // CHECK-SAME: (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x?x3x3xf32>
  // CHECK: ssprop.wgrad
  // CHECK-SAME: gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
  // CHECK-SAME: -> tensor<16x?x3x3xf32>
  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 1] dilation = [1, 1]
      groups = 1 sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x?x3x3xf32>, tensor<16xf32>)
  %s:3 = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 1] dilation = [1, 1]
      groups = 1 sparsity = <keep = 1.0, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x?x3x3xf32>, tensor<16xf32>)
  return %r#1, %s#1 : tensor<16x?x3x3xf32>, tensor<16x?x3x3xf32>
}
