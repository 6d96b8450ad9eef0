// RUN: ssprop-opt %s | ssprop-opt | FileCheck %s
// RUN: ssprop-opt %s --mlir-print-op-generic | ssprop-opt | FileCheck %s

// Round trip of the mid-level ops that --ssprop-lower-to-gemm produces, and of
// #ssprop.gemm. The second RUN line prints the generic form and parses it back.
// Every op is valid: the verifier errors are in gemm-ops-invalid.mlir.

// channel_score names its result %score; an f16 grad_output gives an f32 score.
// CHECK-LABEL: func.func @channel_score(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf16>
// CHECK-SAME:      {{^}}) -> tensor<16xf32> {{\{$}}
// CHECK-NEXT:    %score = ssprop.channel_score %[[DY]] : tensor<8x16x32x32xf16> -> tensor<16xf32>{{$}}
// CHECK-NEXT:    return %score : tensor<16xf32>{{$}}
func.func @channel_score(%dy: tensor<8x16x32x32xf16>) -> tensor<16xf32> {
  %s = ssprop.channel_score %dy : tensor<8x16x32x32xf16> -> tensor<16xf32>
  return %s : tensor<16xf32>
}

// select_topk names its result %kept.
// CHECK-LABEL: func.func @select_topk(
// CHECK-SAME:      %[[SCORE:[^:]+]]: tensor<16xf32>
// CHECK-SAME:      {{^}}) -> tensor<6xi32> {{\{$}}
// CHECK-NEXT:    %kept = ssprop.select_topk %[[SCORE]] k = 6 : tensor<16xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    return %kept : tensor<6xi32>{{$}}
func.func @select_topk(%score: tensor<16xf32>) -> tensor<6xi32> {
  %k = ssprop.select_topk %score k = 6 : tensor<16xf32> -> tensor<6xi32>
  return %k : tensor<6xi32>
}

// random_seed names its result %seed; select_random names its result %kept.
// CHECK-LABEL: func.func @select_random() -> tensor<6xi32>
// CHECK-SAME:      {{^}} {{\{$}}
// CHECK-NEXT:    %seed = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %kept = ssprop.select_random %seed k = 6 of 16 : tensor<6xi32>{{$}}
// CHECK-NEXT:    return %kept : tensor<6xi32>{{$}}
func.func @select_random() -> tensor<6xi32> {
  %s = ssprop.random_seed : i64
  %k = ssprop.select_random %s k = 6 of 16 : tensor<6xi32>
  return %k : tensor<6xi32>
}

// Two random_seed ops stay two ops, with distinct names.
// CHECK-LABEL: func.func @two_seeds() -> (i64, i64)
// CHECK-SAME:      {{^}} {{\{$}}
// CHECK-NEXT:    %seed = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    %seed_0 = ssprop.random_seed : i64{{$}}
// CHECK-NEXT:    return %seed, %seed_0 : i64, i64{{$}}
func.func @two_seeds() -> (i64, i64) {
  %a = ssprop.random_seed : i64
  %b = ssprop.random_seed : i64
  return %a, %b : i64, i64
}

// k may equal the number of channels.
// CHECK-LABEL: func.func @select_topk_all(
// CHECK-SAME:      %[[SCORE:[^:]+]]: tensor<16xf32>
// CHECK-SAME:      {{^}}) -> tensor<16xi32> {{\{$}}
// CHECK-NEXT:    %kept = ssprop.select_topk %[[SCORE]] k = 16 : tensor<16xf32> -> tensor<16xi32>{{$}}
// CHECK-NEXT:    return %kept : tensor<16xi32>{{$}}
func.func @select_topk_all(%score: tensor<16xf32>) -> tensor<16xi32> {
  %k = ssprop.select_topk %score k = 16 : tensor<16xf32> -> tensor<16xi32>
  return %k : tensor<16xi32>
}

// A dynamic score size accepts any k >= 1.
// CHECK-LABEL: func.func @select_topk_dynamic(
// CHECK-SAME:      %[[SCORE:[^:]+]]: tensor<?xf32>
// CHECK-SAME:      {{^}}) -> tensor<6xi32> {{\{$}}
// CHECK-NEXT:    %kept = ssprop.select_topk %[[SCORE]] k = 6 : tensor<?xf32> -> tensor<6xi32>{{$}}
// CHECK-NEXT:    return %kept : tensor<6xi32>{{$}}
func.func @select_topk_dynamic(%score: tensor<?xf32>) -> tensor<6xi32> {
  %k = ssprop.select_topk %score k = 6 : tensor<?xf32> -> tensor<6xi32>
  return %k : tensor<6xi32>
}

// group_offsets names its result %group_offsets: groups + 1 entries.
// CHECK-LABEL: func.func @group_offsets(
// CHECK-SAME:      %[[IDX:[^:]+]]: tensor<9xi32>
// CHECK-SAME:      {{^}}) -> tensor<5xi32> {{\{$}}
// CHECK-NEXT:    %group_offsets = ssprop.group_offsets %[[IDX]] groups = 4 size = 8 : tensor<9xi32> -> tensor<5xi32>{{$}}
// CHECK-NEXT:    return %group_offsets : tensor<5xi32>{{$}}
func.func @group_offsets(%idx: tensor<9xi32>) -> tensor<5xi32> {
  %o = ssprop.group_offsets %idx groups = 4 size = 8 : tensor<9xi32> -> tensor<5xi32>
  return %o : tensor<5xi32>
}

// channel_sum without gather: one sum per channel, in the element type or in
// the f32 accumulator.
// CHECK-LABEL: func.func @channel_sum_dense(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xbf16>
// CHECK-SAME:      {{^}}) -> (tensor<16xbf16>, tensor<16xf32>) {{\{$}}
// CHECK-NEXT:    %[[A:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xbf16>) -> tensor<16xbf16>{{$}}
// CHECK-NEXT:    %[[B:[^ ]+]] = ssprop.channel_sum %[[DY]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xbf16>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    return %[[A]], %[[B]] : tensor<16xbf16>, tensor<16xf32>{{$}}
func.func @channel_sum_dense(%dy: tensor<8x16x32x32xbf16>)
    -> (tensor<16xbf16>, tensor<16xf32>) {
  %a = ssprop.channel_sum %dy acc = f32
      : (tensor<8x16x32x32xbf16>) -> tensor<16xbf16>
  %b = ssprop.channel_sum %dy acc = f32
      : (tensor<8x16x32x32xbf16>) -> tensor<16xf32>
  return %a, %b : tensor<16xbf16>, tensor<16xf32>
}

// channel_sum with gather: one sum per gathered channel, f32 or the element type.
// CHECK-LABEL: func.func @channel_sum_gather(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<6xi32>
// CHECK-SAME:      {{^}}) -> (tensor<6xf32>, tensor<6xf16>) {{\{$}}
// CHECK-NEXT:    %[[A:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[IDX]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6xf32>{{$}}
// CHECK-NEXT:    %[[B:[^ ]+]] = ssprop.channel_sum %[[DY]] gather %[[IDX]] acc = f32
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6xf16>{{$}}
// CHECK-NEXT:    return %[[A]], %[[B]] : tensor<6xf32>, tensor<6xf16>{{$}}
func.func @channel_sum_gather(%dy: tensor<8x16x32x32xf16>, %idx: tensor<6xi32>)
    -> (tensor<6xf32>, tensor<6xf16>) {
  %a = ssprop.channel_sum %dy gather %idx acc = f32
      : (tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6xf32>
  %b = ssprop.channel_sum %dy gather %idx acc = f32
      : (tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6xf16>
  return %a, %b : tensor<6xf32>, tensor<6xf16>
}

// dgrad without gather and with the gemm attribute without batch:
// m = 8*32*32 = 8192, n = 16, k = 16*3*3 = 144.
// CHECK-LABEL: func.func @dgrad_dense(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>
// CHECK-SAME:      {{^}}) -> tensor<8x16x32x32xf32> {{\{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x16x32x32xf32>{{$}}
func.func @dgrad_dense(%dy: tensor<8x16x32x32xf32>, %w: tensor<16x16x3x3xf32>)
    -> tensor<8x16x32x32xf32> {
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  return %gi : tensor<8x16x32x32xf32>
}

// dgrad with gather: k = 6*3*3 = 54.
// CHECK-LABEL: func.func @dgrad_gather(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<6xi32>
// CHECK-SAME:      {{^}}) -> tensor<8x16x32x32xf32> {{\{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[IDX]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x16x32x32xf32>{{$}}
func.func @dgrad_gather(%dy: tensor<8x16x32x32xf32>, %w: tensor<16x16x3x3xf32>,
    %idx: tensor<6xi32>) -> tensor<8x16x32x32xf32> {
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>
  return %gi : tensor<8x16x32x32xf32>
}

// A grouped dgrad: with gather it takes group_offsets; the gemm has batch = 4,
// n = 16/4 = 4 and k = min(12, 32/4)*3*3 = 72. Without gather, no group_offsets.
// CHECK-LABEL: func.func @dgrad_grouped(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<32x4x3x3xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<12xi32>,
// CHECK-SAME:      {{^}} %[[OFF:[^:]+]]: tensor<5xi32>
// CHECK-SAME:      {{^}}) -> (tensor<2x16x14x14xf32>, tensor<2x16x14x14xf32>) {{\{$}}
// CHECK-NEXT:    %[[A:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[IDX]] group_offsets %[[OFF]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    %[[B:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>) -> tensor<2x16x14x14xf32>{{$}}
// CHECK-NEXT:    return %[[A]], %[[B]] : tensor<2x16x14x14xf32>, tensor<2x16x14x14xf32>{{$}}
func.func @dgrad_grouped(%dy: tensor<2x32x14x14xf32>, %w: tensor<32x4x3x3xf32>,
    %idx: tensor<12xi32>, %off: tensor<5xi32>)
    -> (tensor<2x16x14x14xf32>, tensor<2x16x14x14xf32>) {
  %a = ssprop.dgrad %dy, %w gather %idx group_offsets %off
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>
  %b = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>) -> tensor<2x16x14x14xf32>
  return %a, %b : tensor<2x16x14x14xf32>, tensor<2x16x14x14xf32>
}

// A 1x1, stride 1, unpadded f16 dgrad: addressing = plain, acc = f32.
// CHECK-LABEL: func.func @dgrad_plain_f16(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x128x7x7xf16>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<128x64x1x1xf16>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<51xi32>
// CHECK-SAME:      {{^}}) -> tensor<8x64x7x7xf16> {{\{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[IDX]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 392, n = 64, k = 51, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<8x128x7x7xf16>, tensor<128x64x1x1xf16>, tensor<51xi32>) -> tensor<8x64x7x7xf16>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x64x7x7xf16>{{$}}
func.func @dgrad_plain_f16(%dy: tensor<8x128x7x7xf16>,
    %w: tensor<128x64x1x1xf16>, %idx: tensor<51xi32>) -> tensor<8x64x7x7xf16> {
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      gemm = <m = 392, n = 64, k = 51, acc = f32, addressing = plain>
      : (tensor<8x128x7x7xf16>, tensor<128x64x1x1xf16>, tensor<51xi32>) -> tensor<8x64x7x7xf16>
  return %gi : tensor<8x64x7x7xf16>
}

// A dynamic number of gathered channels: the gemm is not checked against it.
// CHECK-LABEL: func.func @dgrad_dynamic_gather(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[W:[^:]+]]: tensor<16x16x3x3xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<?xi32>
// CHECK-SAME:      {{^}}) -> tensor<8x16x32x32xf32> {{\{$}}
// CHECK-NEXT:    %[[GI:[^ ]+]] = ssprop.dgrad %[[DY]], %[[W]] gather %[[IDX]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<?xi32>) -> tensor<8x16x32x32xf32>{{$}}
// CHECK-NEXT:    return %[[GI]] : tensor<8x16x32x32xf32>{{$}}
func.func @dgrad_dynamic_gather(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %idx: tensor<?xi32>) -> tensor<8x16x32x32xf32> {
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<?xi32>) -> tensor<8x16x32x32xf32>
  return %gi : tensor<8x16x32x32xf32>
}

// wgrad without gather: one row per channel. m = 16, n = 16*3*3 = 144,
// k = 8*32*32 = 8192.
// CHECK-LABEL: func.func @wgrad_dense(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      {{^}} %[[DY:[^:]+]]: tensor<8x16x32x32xf32>
// CHECK-SAME:      {{^}}) -> tensor<16x16x3x3xf32> {{\{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[ROWS]] : tensor<16x16x3x3xf32>{{$}}
func.func @wgrad_dense(%x: tensor<8x16x32x32xf32>, %dy: tensor<8x16x32x32xf32>)
    -> tensor<16x16x3x3xf32> {
  %rows = ssprop.wgrad %x, %dy
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>
  return %rows : tensor<16x16x3x3xf32>
}

// wgrad with gather on f16: the rows are f32 (the accumulator) or f16.
// CHECK-LABEL: func.func @wgrad_gather_f16(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[DY:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<6xi32>
// CHECK-SAME:      {{^}}) -> (tensor<6x16x3x3xf32>, tensor<6x16x3x3xf16>) {{\{$}}
// CHECK-NEXT:    %[[A:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[IDX]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xf32>{{$}}
// CHECK-NEXT:    %[[B:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[IDX]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xf16>{{$}}
// CHECK-NEXT:    return %[[A]], %[[B]] : tensor<6x16x3x3xf32>, tensor<6x16x3x3xf16>{{$}}
func.func @wgrad_gather_f16(%x: tensor<8x16x32x32xf16>,
    %dy: tensor<8x16x32x32xf16>, %idx: tensor<6xi32>)
    -> (tensor<6x16x3x3xf32>, tensor<6x16x3x3xf16>) {
  %a = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xf32>
  %b = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xf16>
  return %a, %b : tensor<6x16x3x3xf32>, tensor<6x16x3x3xf16>
}

// A grouped wgrad: n = 16/4*3*3 = 36, k = 2*14*14 = 392, no batch.
// CHECK-LABEL: func.func @wgrad_grouped(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      {{^}} %[[DY:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<12xi32>
// CHECK-SAME:      {{^}}) -> tensor<12x4x3x3xf32> {{\{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[IDX]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      {{^}} gemm = <m = 12, n = 36, k = 392, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x4x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[ROWS]] : tensor<12x4x3x3xf32>{{$}}
func.func @wgrad_grouped(%x: tensor<2x16x14x14xf32>,
    %dy: tensor<2x32x14x14xf32>, %idx: tensor<12xi32>) -> tensor<12x4x3x3xf32> {
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <m = 12, n = 36, k = 392, acc = f32, addressing = im2col>
      : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x4x3x3xf32>
  return %rows : tensor<12x4x3x3xf32>
}

// A 1x1, stride 1, unpadded wgrad: addressing = plain.
// CHECK-LABEL: func.func @wgrad_plain(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<8x64x7x7xf32>,
// CHECK-SAME:      {{^}} %[[DY:[^:]+]]: tensor<8x128x7x7xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<51xi32>
// CHECK-SAME:      {{^}}) -> tensor<51x64x1x1xf32> {{\{$}}
// CHECK-NEXT:    %[[ROWS:[^ ]+]] = ssprop.wgrad %[[X]], %[[DY]] gather %[[IDX]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 51, n = 64, k = 392, acc = f32, addressing = plain>
// CHECK-SAME:      {{^}} : (tensor<8x64x7x7xf32>, tensor<8x128x7x7xf32>, tensor<51xi32>) -> tensor<51x64x1x1xf32>{{$}}
// CHECK-NEXT:    return %[[ROWS]] : tensor<51x64x1x1xf32>{{$}}
func.func @wgrad_plain(%x: tensor<8x64x7x7xf32>, %dy: tensor<8x128x7x7xf32>,
    %idx: tensor<51xi32>) -> tensor<51x64x1x1xf32> {
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      gemm = <m = 51, n = 64, k = 392, acc = f32, addressing = plain>
      : (tensor<8x64x7x7xf32>, tensor<8x128x7x7xf32>, tensor<51xi32>) -> tensor<51x64x1x1xf32>
  return %rows : tensor<51x64x1x1xf32>
}

// scatter_channels of 1-D sums and 4-D rows, converting f32 to f16 and bf16, or
// keeping the element type.
// CHECK-LABEL: func.func @scatter_channels(
// CHECK-SAME:      %[[SUMS:[^:]+]]: tensor<6xf32>,
// CHECK-SAME:      {{^}} %[[ROWS:[^:]+]]: tensor<6x16x3x3xf32>,
// CHECK-SAME:      {{^}} %[[H:[^:]+]]: tensor<6x16x3x3xf16>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<6xi32>
// CHECK-SAME:      {{^}}) -> (tensor<16xf32>, tensor<16xf16>, tensor<16x16x3x3xbf16>, tensor<16x16x3x3xf16>) {{\{$}}
// CHECK-NEXT:    %[[A:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[IDX]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>{{$}}
// CHECK-NEXT:    %[[B:[^ ]+]] = ssprop.scatter_channels %[[SUMS]], %[[IDX]]
// CHECK-SAME:      {{^}} : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf16>{{$}}
// CHECK-NEXT:    %[[C:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[IDX]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xbf16>{{$}}
// CHECK-NEXT:    %[[D:[^ ]+]] = ssprop.scatter_channels %[[H]], %[[IDX]]
// CHECK-SAME:      {{^}} : (tensor<6x16x3x3xf16>, tensor<6xi32>) -> tensor<16x16x3x3xf16>{{$}}
// CHECK-NEXT:    return %[[A]], %[[B]], %[[C]], %[[D]] : tensor<16xf32>, tensor<16xf16>, tensor<16x16x3x3xbf16>, tensor<16x16x3x3xf16>{{$}}
func.func @scatter_channels(%sums: tensor<6xf32>, %rows: tensor<6x16x3x3xf32>,
    %h: tensor<6x16x3x3xf16>, %idx: tensor<6xi32>)
    -> (tensor<16xf32>, tensor<16xf16>, tensor<16x16x3x3xbf16>, tensor<16x16x3x3xf16>) {
  %a = ssprop.scatter_channels %sums, %idx
      : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf32>
  %b = ssprop.scatter_channels %sums, %idx
      : (tensor<6xf32>, tensor<6xi32>) -> tensor<16xf16>
  %c = ssprop.scatter_channels %rows, %idx
      : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xbf16>
  %d = ssprop.scatter_channels %h, %idx
      : (tensor<6x16x3x3xf16>, tensor<6xi32>) -> tensor<16x16x3x3xf16>
  return %a, %b, %c, %d
      : tensor<16xf32>, tensor<16xf16>, tensor<16x16x3x3xbf16>, tensor<16x16x3x3xf16>
}

// scatter_channels with a dynamic number of rows and indices.
// CHECK-LABEL: func.func @scatter_channels_dynamic(
// CHECK-SAME:      %[[ROWS:[^:]+]]: tensor<?x16x3x3xf32>,
// CHECK-SAME:      {{^}} %[[IDX:[^:]+]]: tensor<?xi32>
// CHECK-SAME:      {{^}}) -> tensor<16x16x3x3xf32> {{\{$}}
// CHECK-NEXT:    %[[GW:[^ ]+]] = ssprop.scatter_channels %[[ROWS]], %[[IDX]]
// CHECK-SAME:      {{^}} : (tensor<?x16x3x3xf32>, tensor<?xi32>) -> tensor<16x16x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[GW]] : tensor<16x16x3x3xf32>{{$}}
func.func @scatter_channels_dynamic(%rows: tensor<?x16x3x3xf32>,
    %idx: tensor<?xi32>) -> tensor<16x16x3x3xf32> {
  %gw = ssprop.scatter_channels %rows, %idx
      : (tensor<?x16x3x3xf32>, tensor<?xi32>) -> tensor<16x16x3x3xf32>
  return %gw : tensor<16x16x3x3xf32>
}

// The #ssprop.gemm attribute on its own: batch = 1 (the default) is not printed,
// and the parameters may be written in any order.
// CHECK-LABEL: func.func @gemm_attr()
// CHECK-SAME:      attributes {a = #ssprop.gemm<m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>,
// CHECK-SAME:      {{^}} b = #ssprop.gemm<batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>,
// CHECK-SAME:      {{^}} c = #ssprop.gemm<m = 392, n = 64, k = 51, acc = f32, addressing = plain>,
// CHECK-SAME:      {{^}} d = #ssprop.gemm<batch = 2, m = 1, n = 2, k = 3, acc = f32, addressing = plain>}
// CHECK-SAME:      {{^}} {{\{$}}
// CHECK-NEXT:    return{{$}}
func.func @gemm_attr() attributes {
    a = #ssprop.gemm<m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>,
    b = #ssprop.gemm<batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>,
    c = #ssprop.gemm<batch = 1, m = 392, n = 64, k = 51, acc = f32, addressing = plain>,
    d = #ssprop.gemm<addressing = plain, acc = f32, k = 3, n = 2, m = 1, batch = 2>} {
  return
}
