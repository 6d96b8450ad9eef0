// RUN: ssprop-opt %s -split-input-file -verify-diagnostics

// Verifier errors of the mid-level ops (channel_score, select_topk,
// select_random, group_offsets, channel_sum, dgrad, wgrad, scatter_channels)
// and of #ssprop.gemm. Every case is otherwise valid, so the expected error is
// the only one. Valid forms are in gemm-ops.mlir.

// channel_score: one score per channel.
func.func @channel_score_size(%dy: tensor<8x16x32x32xf32>) {
  // expected-error@+1 {{'ssprop.channel_score' op expected score shape 16 (one per channel of grad_output), got 8}}
  %s = ssprop.channel_score %dy : tensor<8x16x32x32xf32> -> tensor<8xf32>
  return
}

// -----

// channel_score: the score is f32 (ODS).
func.func @channel_score_f16(%dy: tensor<8x16x32x32xf16>) {
  // expected-error@+1 {{'ssprop.channel_score' op result #0 must be 1D tensor of 32-bit float values, but got 'tensor<16xf16>'}}
  %s = ssprop.channel_score %dy : tensor<8x16x32x32xf16> -> tensor<16xf16>
  return
}

// -----

// select_topk: k above the number of scores.
func.func @select_topk_k_too_large(%s: tensor<16xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op expected k in [1, 16], got 17}}
  %k = ssprop.select_topk %s k = 17 : tensor<16xf32> -> tensor<17xi32>
  return
}

// -----

// select_topk: k = 0.
func.func @select_topk_k_zero(%s: tensor<16xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op expected k in [1, 16], got 0}}
  %k = ssprop.select_topk %s k = 0 : tensor<16xf32> -> tensor<0xi32>
  return
}

// -----

// select_topk: a negative k.
func.func @select_topk_k_negative(%s: tensor<16xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op expected k in [1, 16], got -1}}
  %k = ssprop.select_topk %s k = -1 : tensor<16xf32> -> tensor<6xi32>
  return
}

// -----

// select_topk: k = 0 is rejected even when the number of scores is dynamic.
func.func @select_topk_k_zero_dynamic(%s: tensor<?xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op expected k in [1, ?], got 0}}
  %k = ssprop.select_topk %s k = 0 : tensor<?xf32> -> tensor<0xi32>
  return
}

// -----

// select_topk: the result holds k indices.
func.func @select_topk_result_size(%s: tensor<16xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op expected indices shape 6 (k), got 5}}
  %k = ssprop.select_topk %s k = 6 : tensor<16xf32> -> tensor<5xi32>
  return
}

// -----

// select_topk: the indices are i32 (ODS).
func.func @select_topk_i64(%s: tensor<16xf32>) {
  // expected-error@+1 {{'ssprop.select_topk' op result #0 must be 1D tensor of 32-bit signless integer values, but got 'tensor<6xi64>'}}
  %k = ssprop.select_topk %s k = 6 : tensor<16xf32> -> tensor<6xi64>
  return
}

// -----

// select_random: at least one channel.
func.func @select_random_channels_zero(%seed: i64) {
  // expected-error@+1 {{'ssprop.select_random' op expected channels >= 1, got 0}}
  %k = ssprop.select_random %seed k = 1 of 0 : tensor<1xi32>
  return
}

// -----

// select_random: k above the number of channels.
func.func @select_random_k_too_large(%seed: i64) {
  // expected-error@+1 {{'ssprop.select_random' op expected k in [1, 16], got 17}}
  %k = ssprop.select_random %seed k = 17 of 16 : tensor<17xi32>
  return
}

// -----

// select_random: k = 0.
func.func @select_random_k_zero(%seed: i64) {
  // expected-error@+1 {{'ssprop.select_random' op expected k in [1, 16], got 0}}
  %k = ssprop.select_random %seed k = 0 of 16 : tensor<0xi32>
  return
}

// -----

// select_random: the result holds k indices.
func.func @select_random_result_size(%seed: i64) {
  // expected-error@+1 {{'ssprop.select_random' op expected indices shape 6 (k), got 7}}
  %k = ssprop.select_random %seed k = 6 of 16 : tensor<7xi32>
  return
}

// -----

// group_offsets: groups = 0.
func.func @group_offsets_groups_zero(%idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.group_offsets' op expected groups and size >= 1, got groups 0 and size 8}}
  %o = ssprop.group_offsets %idx groups = 0 size = 8 : tensor<6xi32> -> tensor<1xi32>
  return
}

// -----

// group_offsets: size = 0.
func.func @group_offsets_size_zero(%idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.group_offsets' op expected groups and size >= 1, got groups 4 and size 0}}
  %o = ssprop.group_offsets %idx groups = 4 size = 0 : tensor<6xi32> -> tensor<5xi32>
  return
}

// -----

// group_offsets: the result holds groups + 1 offsets.
func.func @group_offsets_result_size(%idx: tensor<9xi32>) {
  // expected-error@+1 {{'ssprop.group_offsets' op expected offsets shape 5 (groups + 1), got 4}}
  %o = ssprop.group_offsets %idx groups = 4 size = 8 : tensor<9xi32> -> tensor<4xi32>
  return
}

// -----

// group_offsets: more indices than the groups hold (4 * 8 = 32).
func.func @group_offsets_too_many_indices(%idx: tensor<33xi32>) {
  // expected-error@+1 {{'ssprop.group_offsets' op expected at most 32 gathered channels, got 33}}
  %o = ssprop.group_offsets %idx groups = 4 size = 8 : tensor<33xi32> -> tensor<5xi32>
  return
}

// -----

// group_offsets: an empty index list.
func.func @group_offsets_no_indices(%idx: tensor<0xi32>) {
  // expected-error@+1 {{'ssprop.group_offsets' op expected at least one gathered channel}}
  %o = ssprop.group_offsets %idx groups = 4 size = 8 : tensor<0xi32> -> tensor<5xi32>
  return
}

// -----

// channel_sum: the accumulator is f32.
func.func @channel_sum_acc_f16(%dy: tensor<8x16x32x32xf16>) {
  // expected-error@+1 {{'ssprop.channel_sum' op expected accumulator type f32, got 'f16'}}
  %b = ssprop.channel_sum %dy acc = f16
      : (tensor<8x16x32x32xf16>) -> tensor<16xf16>
  return
}

// -----

// channel_sum: the result is in the element type (f16) or the accumulator type
// (f32), not bf16.
func.func @channel_sum_result_type(%dy: tensor<8x16x32x32xf16>) {
  // expected-error@+1 {{'ssprop.channel_sum' op expected result element type 'f16' or the accumulator type 'f32', got 'bf16'}}
  %b = ssprop.channel_sum %dy acc = f32
      : (tensor<8x16x32x32xf16>) -> tensor<16xbf16>
  return
}

// -----

// channel_sum without gather: one sum per channel.
func.func @channel_sum_size(%dy: tensor<8x16x32x32xf32>) {
  // expected-error@+1 {{'ssprop.channel_sum' op expected result shape 16 (one per channel of grad_output), got 15}}
  %b = ssprop.channel_sum %dy acc = f32
      : (tensor<8x16x32x32xf32>) -> tensor<15xf32>
  return
}

// -----

// channel_sum with gather: one sum per gathered channel.
func.func @channel_sum_gathered_size(%dy: tensor<8x16x32x32xf32>,
    %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.channel_sum' op expected result shape 6 (one per gathered channel), got 16}}
  %b = ssprop.channel_sum %dy gather %idx acc = f32
      : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<16xf32>
  return
}

// -----

// channel_sum: more gathered channels than grad_output holds.
func.func @channel_sum_too_many_gathered(%dy: tensor<8x16x32x32xf32>,
    %idx: tensor<17xi32>) {
  // expected-error@+1 {{'ssprop.channel_sum' op expected at most 16 gathered channels, got 17}}
  %b = ssprop.channel_sum %dy gather %idx acc = f32
      : (tensor<8x16x32x32xf32>, tensor<17xi32>) -> tensor<17xf32>
  return
}

// -----

// #ssprop.gemm: every size is >= 1.
// expected-error@+2 {{gemm sizes must be >= 1, got batch 1, m 0, n 16, k 54}}
func.func @gemm_m_zero() attributes {
    g = #ssprop.gemm<m = 0, n = 16, k = 54, acc = f32, addressing = im2col>} {
  return
}

// -----

// #ssprop.gemm: batch = 0.
// expected-error@+2 {{gemm sizes must be >= 1, got batch 0, m 8192, n 16, k 54}}
func.func @gemm_batch_zero() attributes {
    g = #ssprop.gemm<batch = 0, m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>} {
  return
}

// -----

// #ssprop.gemm: a negative k.
// expected-error@+2 {{gemm sizes must be >= 1, got batch 1, m 8192, n 16, k -54}}
func.func @gemm_negative_k() attributes {
    g = #ssprop.gemm<m = 8192, n = 16, k = -54, acc = f32, addressing = im2col>} {
  return
}

// -----

// #ssprop.gemm: the accumulator is f32.
// expected-error@+2 {{gemm accumulator must be f32, got 'f16'}}
func.func @gemm_acc_f16() attributes {
    g = #ssprop.gemm<m = 8192, n = 16, k = 54, acc = f16, addressing = im2col>} {
  return
}

// -----

// #ssprop.gemm inside dgrad: the accumulator is f32, checked as the op is
// parsed.
func.func @dgrad_gemm_acc_f16(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      // expected-error@+1 {{custom op 'ssprop.dgrad' gemm accumulator must be f32, got 'f16'}}
      gemm = <m = 8192, n = 16, k = 144, acc = f16, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: the gemm must match the shapes. With 6 gathered channels k = 6*3*3 =
// 54, not the dense 144.
func.func @dgrad_wrong_gemm_k(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected gemm #ssprop.gemm<m = 8192, n = 16, k = 54, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>}}
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: a 3x3 convolution is not plain.
func.func @dgrad_wrong_gemm_addressing(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected gemm #ssprop.gemm<m = 8192, n = 16, k = 144, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<m = 8192, n = 16, k = 144, acc = f32, addressing = plain>}}
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = plain>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: a grouped dgrad has batch = groups.
func.func @dgrad_wrong_gemm_batch(%dy: tensor<2x32x14x14xf32>,
    %w: tensor<32x4x3x3xf32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected gemm #ssprop.gemm<batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<m = 392, n = 4, k = 72, acc = f32, addressing = im2col>}}
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>) -> tensor<2x16x14x14xf32>
  return
}

// -----

// dgrad: a gathered grouped dgrad has k = min(kept, Cout / groups)*KH*KW =
// min(12, 8)*9 = 72, not 12*9.
func.func @dgrad_grouped_gemm_k(%dy: tensor<2x32x14x14xf32>,
    %w: tensor<32x4x3x3xf32>, %idx: tensor<12xi32>, %off: tensor<5xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected gemm #ssprop.gemm<batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<batch = 4, m = 392, n = 4, k = 108, acc = f32, addressing = im2col>}}
  %gi = ssprop.dgrad %dy, %w gather %idx group_offsets %off
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 108, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>
  return
}

// -----

// dgrad: a gathered dgrad with groups > 1 needs group_offsets.
func.func @dgrad_gather_without_offsets(%dy: tensor<2x32x14x14xf32>,
    %w: tensor<32x4x3x3xf32>, %idx: tensor<12xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected group_offsets: a gathered dgrad with 4 groups must know each group's kept channels}}
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>) -> tensor<2x16x14x14xf32>
  return
}

// -----

// dgrad: group_offsets without gather.
func.func @dgrad_offsets_without_gather(%dy: tensor<2x32x14x14xf32>,
    %w: tensor<32x4x3x3xf32>, %off: tensor<5xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op unexpected group_offsets: they only apply to a gathered dgrad with groups > 1}}
  %gi = ssprop.dgrad %dy, %w group_offsets %off
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<5xi32>) -> tensor<2x16x14x14xf32>
  return
}

// -----

// dgrad: group_offsets on an ungrouped dgrad, even with gather.
func.func @dgrad_offsets_one_group(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %idx: tensor<6xi32>, %off: tensor<2xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op unexpected group_offsets: they only apply to a gathered dgrad with groups > 1}}
  %gi = ssprop.dgrad %dy, %w gather %idx group_offsets %off
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>, tensor<2xi32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: group_offsets holds groups + 1 entries.
func.func @dgrad_offsets_size(%dy: tensor<2x32x14x14xf32>,
    %w: tensor<32x4x3x3xf32>, %idx: tensor<12xi32>, %off: tensor<4xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected group_offsets shape 5 (groups + 1), got 4}}
  %gi = ssprop.dgrad %dy, %w gather %idx group_offsets %off
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 392, n = 4, k = 72, acc = f32, addressing = im2col>
      : (tensor<2x32x14x14xf32>, tensor<32x4x3x3xf32>, tensor<12xi32>, tensor<4xi32>) -> tensor<2x16x14x14xf32>
  return
}

// -----

// dgrad: more gathered channels than the 16 output channels.
func.func @dgrad_too_many_gathered(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %idx: tensor<17xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected at most 16 gathered channels, got 17}}
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 153, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<17xi32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: an empty gather list.
func.func @dgrad_no_gathered(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>, %idx: tensor<0xi32>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected at least one gathered channel}}
  %gi = ssprop.dgrad %dy, %w gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<0xi32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: the weight has the element type of grad_output.
func.func @dgrad_weight_type(%dy: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf16>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected weight element type 'f32' (the element type of grad_output), got 'f16'}}
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf16>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: grad_input has the element type of grad_output (no f32 result for
// f16).
func.func @dgrad_result_type(%dy: tensor<8x16x32x32xf16>,
    %w: tensor<16x16x3x3xf16>) {
  // expected-error@+1 {{'ssprop.dgrad' op expected grad_input element type 'f16' (the element type of grad_output), got 'f32'}}
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// dgrad: the convolution shapes are checked, with grad_input in the place of
// the input.
func.func @dgrad_spatial(%dy: tensor<8x16x16x32xf32>, %w: tensor<16x16x3x3xf32>)
    {
  // expected-error@+1 {{'ssprop.dgrad' op expected grad_output height 32 (grad_input height 32, kernel 3, stride 1, padding 1, dilation 1), got 16}}
  %gi = ssprop.dgrad %dy, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 8192, n = 16, k = 144, acc = f32, addressing = im2col>
      : (tensor<8x16x16x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  return
}

// -----

// wgrad with gather: one row per gathered channel.
func.func @wgrad_rows_gathered(%x: tensor<8x16x32x32xf32>,
    %dy: tensor<8x16x32x32xf32>, %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected grad_weight rows 6 (one per gathered channel of grad_output), got 16}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>
  return
}

// -----

// wgrad without gather: one row per channel.
func.func @wgrad_rows_dense(%x: tensor<8x16x32x32xf32>,
    %dy: tensor<8x16x32x32xf32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected grad_weight rows 16 (one per channel of grad_output), got 6}}
  %rows = ssprop.wgrad %x, %dy
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<6x16x3x3xf32>
  return
}

// -----

// wgrad: the rows are in the element type (f16) or the accumulator type (f32),
// not bf16.
func.func @wgrad_result_type(%x: tensor<8x16x32x32xf16>,
    %dy: tensor<8x16x32x32xf16>, %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected grad_weight element type 'f16' or the accumulator type 'f32', got 'bf16'}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<6xi32>) -> tensor<6x16x3x3xbf16>
  return
}

// -----

// wgrad: the input has the element type of grad_output.
func.func @wgrad_input_type(%x: tensor<8x16x32x32xf16>,
    %dy: tensor<8x16x32x32xf32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected input element type 'f32' (the element type of grad_output), got 'f16'}}
  %rows = ssprop.wgrad %x, %dy
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 16, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>
  return
}

// -----

// wgrad: the gemm must match the shapes: k = N*Ho*Wo = 8*32*32 = 8192.
func.func @wgrad_wrong_gemm(%x: tensor<8x16x32x32xf32>,
    %dy: tensor<8x16x32x32xf32>, %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected gemm #ssprop.gemm<m = 6, n = 144, k = 8192, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<m = 6, n = 144, k = 1024, acc = f32, addressing = im2col>}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 6, n = 144, k = 1024, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6x16x3x3xf32>
  return
}

// -----

// wgrad: the gemm of a grouped wgrad is not batched.
func.func @wgrad_batched_gemm(%x: tensor<2x16x14x14xf32>,
    %dy: tensor<2x32x14x14xf32>, %idx: tensor<12xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected gemm #ssprop.gemm<m = 12, n = 36, k = 392, acc = f32, addressing = im2col> (from the shapes and geometry), got #ssprop.gemm<batch = 4, m = 12, n = 36, k = 392, acc = f32, addressing = im2col>}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <batch = 4, m = 12, n = 36, k = 392, acc = f32, addressing = im2col>
      : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x4x3x3xf32>
  return
}

// -----

// wgrad: more gathered channels than grad_output holds.
func.func @wgrad_too_many_gathered(%x: tensor<8x16x32x32xf32>,
    %dy: tensor<8x16x32x32xf32>, %idx: tensor<17xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected at most 16 gathered channels, got 17}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      gemm = <m = 17, n = 144, k = 8192, acc = f32, addressing = im2col>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<17xi32>) -> tensor<17x16x3x3xf32>
  return
}

// -----

// wgrad: the rows hold the input channels of one group (16 / 4 = 4).
func.func @wgrad_group_channels(%x: tensor<2x16x14x14xf32>,
    %dy: tensor<2x32x14x14xf32>, %idx: tensor<12xi32>) {
  // expected-error@+1 {{'ssprop.wgrad' op expected grad_weight input channels per group 4 (input channels 16 / groups 4), got 16}}
  %rows = ssprop.wgrad %x, %dy gather %idx
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      gemm = <m = 12, n = 144, k = 392, acc = f32, addressing = im2col>
      : (tensor<2x16x14x14xf32>, tensor<2x32x14x14xf32>, tensor<12xi32>) -> tensor<12x16x3x3xf32>
  return
}

// -----

// scatter_channels: rows and result of different ranks.
func.func @scatter_rank_mismatch(%rows: tensor<6xf32>, %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.scatter_channels' op expected rows and result of one rank >= 1, got 1 and 2}}
  %r = ssprop.scatter_channels %rows, %idx
      : (tensor<6xf32>, tensor<6xi32>) -> tensor<16x1xf32>
  return
}

// -----

// scatter_channels: 0-d rows.
func.func @scatter_rank_zero(%rows: tensor<f32>, %idx: tensor<1xi32>) {
  // expected-error@+1 {{'ssprop.scatter_channels' op expected rows and result of one rank >= 1, got 0 and 0}}
  %r = ssprop.scatter_channels %rows, %idx
      : (tensor<f32>, tensor<1xi32>) -> tensor<f32>
  return
}

// -----

// scatter_channels: rows and result agree past the leading dimension.
func.func @scatter_trailing_dims(%rows: tensor<6x16x3x3xf32>,
    %idx: tensor<6xi32>) {
  // expected-error@+1 {{'ssprop.scatter_channels' op expected rows and result to agree past the leading dimension, got 6x16x3x3 and 16x8x3x3}}
  %r = ssprop.scatter_channels %rows, %idx
      : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x8x3x3xf32>
  return
}

// -----

// scatter_channels: one index per row.
func.func @scatter_indices_count(%rows: tensor<6x16x3x3xf32>,
    %idx: tensor<5xi32>) {
  // expected-error@+1 {{'ssprop.scatter_channels' op expected indices shape 6 (one per row), got 5}}
  %r = ssprop.scatter_channels %rows, %idx
      : (tensor<6x16x3x3xf32>, tensor<5xi32>) -> tensor<16x16x3x3xf32>
  return
}

// -----

// scatter_channels: more rows than the result holds.
func.func @scatter_too_many_rows(%rows: tensor<17xf32>, %idx: tensor<17xi32>) {
  // expected-error@+1 {{'ssprop.scatter_channels' op expected at most 16 gathered channels, got 17}}
  %r = ssprop.scatter_channels %rows, %idx
      : (tensor<17xf32>, tensor<17xi32>) -> tensor<16xf32>
  return
}
