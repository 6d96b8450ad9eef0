// RUN: ssprop-opt %s | ssprop-opt | FileCheck %s
// RUN: ssprop-opt %s --mlir-print-op-generic | ssprop-opt | FileCheck %s

// Round trip of ssprop.conv2d_backward and #ssprop.sparsity. The second RUN
// line prints the generic form and parses it back, so both the custom and the
// generic syntax must read into the same op.

// The generic form reads back into the custom form.
// CHECK-LABEL: func.func @generic_form(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @generic_form(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %r:3 = "ssprop.conv2d_backward"(%dy, %x, %w) {
      stride = array<i64: 1, 1>, padding = array<i64: 1, 1>,
      dilation = array<i64: 1, 1>, groups = 1 : i64,
      sparsity = #ssprop.sparsity<keep = 0.4, select = topk>}
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// The custom form, as in the op description.
// CHECK-LABEL: func.func @custom_form(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @custom_form(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// Stride 2, padding 1: (32 + 2 - 2 - 1) / 2 + 1 = 16.
// CHECK-LABEL: func.func @stride2_padding(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x32x16x16xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<32x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x32x16x16xf32>, tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @stride2_padding(%dy: tensor<8x32x16x16xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<32x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x32x16x16xf32>, tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>)
  return
}

// Odd sizes, floor division: (7 - 2 - 1) / 2 + 1 = 3 and
// (9 + 2 - 2 - 1) / 2 + 1 = 5.
// CHECK-LABEL: func.func @stride2_odd_size(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<1x4x3x5xf32>, %[[X:[^:]+]]: tensor<1x3x7x9xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<4x3x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [2, 2] padding = [0, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<1x4x3x5xf32>, tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>)
// CHECK-SAME:      -> (tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @stride2_odd_size(%dy: tensor<1x4x3x5xf32>, %x: tensor<1x3x7x9xf32>,
    %w: tensor<4x3x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [0, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<1x4x3x5xf32>, tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>)
      -> (tensor<1x3x7x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>)
  return
}

// Different stride per axis: (7 - 2 - 1) / 1 + 1 = 5 and
// (10 - 2 - 1) / 3 + 1 = 3.
// CHECK-LABEL: func.func @stride_per_axis(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x5x3xf32>, %[[X:[^:]+]]: tensor<2x4x7x10xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<8x4x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 3] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x8x5x3xf32>, tensor<2x4x7x10xf32>, tensor<8x4x3x3xf32>)
// CHECK-SAME:      -> (tensor<2x4x7x10xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @stride_per_axis(%dy: tensor<2x8x5x3xf32>, %x: tensor<2x4x7x10xf32>,
    %w: tensor<8x4x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 3] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x8x5x3xf32>, tensor<2x4x7x10xf32>, tensor<8x4x3x3xf32>)
      -> (tensor<2x4x7x10xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>)
  return
}

// Dilation 2: the kernel spans 5, (32 - 4 - 1) / 1 + 1 = 28.
// CHECK-LABEL: func.func @dilation2(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x28x28xf32>, %[[X:[^:]+]]: tensor<2x8x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<8x8x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x8x28x28xf32>, tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>)
// CHECK-SAME:      -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dilation2(%dy: tensor<2x8x28x28xf32>, %x: tensor<2x8x32x32xf32>,
    %w: tensor<8x8x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x8x28x28xf32>, tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>)
      -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>)
  return
}

// Dilation 2 on the height only, with padding 2 and 1: 32 and 32.
// CHECK-LABEL: func.func @dilation_per_axis(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x32x32xf32>, %[[X:[^:]+]]: tensor<2x8x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<8x8x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [2, 1] dilation = [2, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x8x32x32xf32>, tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>)
// CHECK-SAME:      -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dilation_per_axis(%dy: tensor<2x8x32x32xf32>, %x: tensor<2x8x32x32xf32>,
    %w: tensor<8x8x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [2, 1] dilation = [2, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x8x32x32xf32>, tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>)
      -> (tensor<2x8x32x32xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>)
  return
}

// Non-square 3x5 kernel with paddings 0 and 2: 18 and 24.
// CHECK-LABEL: func.func @kernel_3x5(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<4x16x18x24xf32>, %[[X:[^:]+]]: tensor<4x8x20x24xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x8x3x5xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [0, 2] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<4x16x18x24xf32>, tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>)
// CHECK-SAME:      -> (tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @kernel_3x5(%dy: tensor<4x16x18x24xf32>, %x: tensor<4x8x20x24xf32>,
    %w: tensor<16x8x3x5xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 2] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<4x16x18x24xf32>, tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>)
      -> (tensor<4x8x20x24xf32>, tensor<16x8x3x5xf32>, tensor<16xf32>)
  return
}

// A 6x5 kernel exactly covering the padded 4x3 input: one output element.
// CHECK-LABEL: func.func @kernel_covers_padded_input(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x8x1x1xf32>, %[[X:[^:]+]]: tensor<2x4x4x3xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<8x4x6x5xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x8x1x1xf32>, tensor<2x4x4x3xf32>, tensor<8x4x6x5xf32>)
// CHECK-SAME:      -> (tensor<2x4x4x3xf32>, tensor<8x4x6x5xf32>, tensor<8xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @kernel_covers_padded_input(%dy: tensor<2x8x1x1xf32>, %x: tensor<2x4x4x3xf32>,
    %w: tensor<8x4x6x5xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x8x1x1xf32>, tensor<2x4x4x3xf32>, tensor<8x4x6x5xf32>)
      -> (tensor<2x4x4x3xf32>, tensor<8x4x6x5xf32>, tensor<8xf32>)
  return
}

// Grouped: 16 input channels in 4 groups of 4, 32 output channels.
// CHECK-LABEL: func.func @groups4(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>, %[[X:[^:]+]]: tensor<2x16x14x14xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<32x4x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
// CHECK-SAME:      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @groups4(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x16x14x14xf32>,
    %w: tensor<32x4x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 4
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x32x14x14xf32>, tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>)
      -> (tensor<2x16x14x14xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>)
  return
}

// Depthwise: groups = Cin = Cout = 32, one input channel per group.
// CHECK-LABEL: func.func @depthwise(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<2x32x14x14xf32>, %[[X:[^:]+]]: tensor<2x32x14x14xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<32x1x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 32
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<2x32x14x14xf32>, tensor<2x32x14x14xf32>, tensor<32x1x3x3xf32>)
// CHECK-SAME:      -> (tensor<2x32x14x14xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @depthwise(%dy: tensor<2x32x14x14xf32>, %x: tensor<2x32x14x14xf32>,
    %w: tensor<32x1x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 32
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x32x14x14xf32>, tensor<2x32x14x14xf32>, tensor<32x1x3x3xf32>)
      -> (tensor<2x32x14x14xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>)
  return
}

// 1x1 convolution: the spatial size is unchanged.
// CHECK-LABEL: func.func @conv_1x1(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x128x7x7xf32>, %[[X:[^:]+]]: tensor<8x64x7x7xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<128x64x1x1xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x128x7x7xf32>, tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>)
// CHECK-SAME:      -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @conv_1x1(%dy: tensor<8x128x7x7xf32>, %x: tensor<8x64x7x7xf32>,
    %w: tensor<128x64x1x1xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x128x7x7xf32>, tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>)
      -> (tensor<8x64x7x7xf32>, tensor<128x64x1x1xf32>, tensor<128xf32>)
  return
}

// Half precision.
// CHECK-LABEL: func.func @f16(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf16>, %[[X:[^:]+]]: tensor<8x16x32x32xf16>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf16>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @f16(%dy: tensor<8x16x32x32xf16>, %x: tensor<8x16x32x32xf16>,
    %w: tensor<16x16x3x3xf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf16>, tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>)
      -> (tensor<8x16x32x32xf16>, tensor<16x16x3x3xf16>, tensor<16xf16>)
  return
}

// bfloat16.
// CHECK-LABEL: func.func @bf16(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xbf16>, %[[X:[^:]+]]: tensor<8x16x32x32xbf16>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xbf16>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xbf16>, tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>)
// CHECK-SAME:      -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @bf16(%dy: tensor<8x16x32x32xbf16>, %x: tensor<8x16x32x32xbf16>,
    %w: tensor<16x16x3x3xbf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xbf16>, tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>)
      -> (tensor<8x16x32x32xbf16>, tensor<16x16x3x3xbf16>, tensor<16xbf16>)
  return
}

// A dynamic batch is accepted.
// CHECK-LABEL: func.func @dynamic_batch(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<?x16x32x32xf32>, %[[X:[^:]+]]: tensor<?x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dynamic_batch(%dy: tensor<?x16x32x32xf32>, %x: tensor<?x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<?x16x32x32xf32>, tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// Dynamic spatial dimensions skip the output size relation.
// CHECK-LABEL: func.func @dynamic_spatial(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x?x?xf32>, %[[X:[^:]+]]: tensor<8x16x?x?xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x?x?xf32>, tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dynamic_spatial(%dy: tensor<8x16x?x?xf32>, %x: tensor<8x16x?x?xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x?x?xf32>, tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x?x?xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// A dynamic grad_output height and width against a static input.
// CHECK-LABEL: func.func @dynamic_grad_output_spatial(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x?x?xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x?x?xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dynamic_grad_output_spatial(%dy: tensor<8x16x?x?xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x?x?xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// Dynamic result dimensions are compatible with static operands.
// CHECK-LABEL: func.func @dynamic_results(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.4, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<?x16x32x?xf32>, tensor<16x?x3x3xf32>, tensor<?xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @dynamic_results(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<?x16x32x?xf32>, tensor<16x?x3x3xf32>, tensor<?xf32>)
  return
}

// keep = 1.0 (dense) prints as 1.0.
// CHECK-LABEL: func.func @keep_one(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 1.0, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @keep_one(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// keep written as the integer 1 prints as the float 1.0.
// CHECK-LABEL: func.func @keep_integer_one(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 1.0, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @keep_integer_one(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// keep = 0.3 prints in its shortest form, not as 0.29999999999999999.
// CHECK-LABEL: func.func @keep_0_3(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.3, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @keep_0_3(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.3, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// keep = 1.0e-5 prints as 1.0e-05.
// CHECK-LABEL: func.func @keep_tiny(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 1.0e-05, select = topk>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @keep_tiny(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 1.0e-5, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// select = random.
// CHECK-LABEL: func.func @select_random(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.25, select = random>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @select_random(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.25, select = random>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// grads = weight_only is printed.
// CHECK-LABEL: func.func @grads_weight_only(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.2, select = random, grads = weight_only>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @grads_weight_only(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.2, select = random, grads = weight_only>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// grads = all is the default and is not printed.
// CHECK-LABEL: func.func @grads_all(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.5, select = topk> : (tensor<8x16x32x32xf32>,
// CHECK-SAME:      tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @grads_all(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.5, select = topk, grads = all>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// Parameters in any order print in the canonical order.
// CHECK-LABEL: func.func @parameter_order(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.5, select = random>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @parameter_order(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <select = random, keep = 0.5>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// grads first, keep last.
// CHECK-LABEL: func.func @parameter_order_grads_first(
// CHECK-SAME:      %[[DY:[^:]+]]: tensor<8x16x32x32xf32>, %[[X:[^:]+]]: tensor<8x16x32x32xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: tensor<16x16x3x3xf32>) {{\{$}}
// CHECK-NEXT:    %grad_input, %grad_weight, %grad_bias = ssprop.conv2d_backward
// CHECK-SAME:      %[[DY]], %[[X]], %[[W]]
// CHECK-SAME:      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      sparsity = <keep = 0.75, select = topk, grads = weight_only>
// CHECK-SAME:      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
// CHECK-SAME:      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>){{$}}
// CHECK-NEXT:    return{{$}}
func.func @parameter_order_grads_first(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <grads = weight_only, select = topk, keep = 0.75>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// The attribute on its own, outside the op, in its full #ssprop.sparsity form.
// CHECK-LABEL: func.func @sparsity_func_attribute()
// CHECK-SAME:      attributes {a = #ssprop.sparsity<keep = 0.4, select = topk>,
// CHECK-SAME:      b = #ssprop.sparsity<keep = 1.0e-05, select = random, grads = weight_only>,
// CHECK-SAME:      c = #ssprop.sparsity<keep = 1.0, select = topk>} {{\{$}}
// CHECK-NEXT:    return{{$}}
func.func @sparsity_func_attribute() attributes {
    a = #ssprop.sparsity<keep = 0.4, select = topk>,
    b = #ssprop.sparsity<grads = weight_only, keep = 1.0e-5, select = random>,
    c = #ssprop.sparsity<keep = 1, select = topk, grads = all>} {
  return
}
