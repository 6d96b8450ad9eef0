// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=GEMM18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=TOPK18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SCORE18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SUM18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SCATTER18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=WGRAD18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet18_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=DGRAD18
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=R50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=TOPK50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SCORE50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SUM50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=SCATTER50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=WGRAD50
// RUN: ssprop-opt %ssprop_src_root/examples/resnet50_backward.mlir --ssprop-lower-to-gemm \
// RUN:   | FileCheck %s --check-prefix=DGRAD50

// --ssprop-lower-to-gemm on the example networks (batch 128, keep 0.4, topk),
// exported from the models of python/ssprop_train/models.py. This file holds
// no IR of its own: the RUN lines lower the examples. Each convolution gets
// its own top-k selection and wgrad; every convolution but the stem gets a
// dgrad (the stem's grad_input is unused). The convolutions have no bias: no
// channel_sum. No conv2d_backward is left. The arguments come as (dy, x, w) per convolution, so layer i reads
// %arg(3i), %arg(3i+1), %arg(3i+2).

//===----------------------------------------------------------------------===//
// resnet18: 20 convolutions, 19 dgrads.
//===----------------------------------------------------------------------===//

// TOPK18-COUNT-20: ssprop.select_topk
// TOPK18-NOT:      ssprop.select_topk

// SCORE18-COUNT-20: ssprop.channel_score
// SCORE18-NOT:      ssprop.channel_score

// SUM18-NOT: ssprop.channel_sum

// SCATTER18-COUNT-20: ssprop.scatter_channels
// SCATTER18-NOT:      ssprop.scatter_channels

// WGRAD18-COUNT-20: ssprop.wgrad
// WGRAD18-NOT:      ssprop.wgrad

// DGRAD18-COUNT-19: ssprop.dgrad
// DGRAD18-NOT:      ssprop.dgrad

// Every layer's k and GEMMs, in order.
// layer4.1.conv2: 512->512, 3x3, stride 1, 4x4 -> 4x4
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 204 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 204, n = 4608, k = 2048, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 2048, n = 512, k = 1836, acc = f32, addressing = im2col> :
// layer4.1.conv1: 512->512, 3x3, stride 1, 4x4 -> 4x4
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 204 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 204, n = 4608, k = 2048, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 2048, n = 512, k = 1836, acc = f32, addressing = im2col> :
// layer4.0.shortcut: 256->512, 1x1, stride 2, 8x8 -> 4x4
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 204 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 204, n = 256, k = 2048, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 8192, n = 256, k = 204, acc = f32, addressing = im2col> :
// layer4.0.conv2: 512->512, 3x3, stride 1, 4x4 -> 4x4
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 204 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 204, n = 4608, k = 2048, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 2048, n = 512, k = 1836, acc = f32, addressing = im2col> :
// layer4.0.conv1: 256->512, 3x3, stride 2, 8x8 -> 4x4
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 204 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 204, n = 2304, k = 2048, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 8192, n = 256, k = 1836, acc = f32, addressing = im2col> :
// layer3.1.conv2: 256->256, 3x3, stride 1, 8x8 -> 8x8
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 102 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 102, n = 2304, k = 8192, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 8192, n = 256, k = 918, acc = f32, addressing = im2col> :
// layer3.1.conv1: 256->256, 3x3, stride 1, 8x8 -> 8x8
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 102 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 102, n = 2304, k = 8192, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 8192, n = 256, k = 918, acc = f32, addressing = im2col> :
// layer3.0.shortcut: 128->256, 1x1, stride 2, 16x16 -> 8x8
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 102 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 102, n = 128, k = 8192, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 32768, n = 128, k = 102, acc = f32, addressing = im2col> :
// layer3.0.conv2: 256->256, 3x3, stride 1, 8x8 -> 8x8
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 102 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 102, n = 2304, k = 8192, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 8192, n = 256, k = 918, acc = f32, addressing = im2col> :
// layer3.0.conv1: 128->256, 3x3, stride 2, 16x16 -> 8x8
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 102 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 102, n = 1152, k = 8192, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 32768, n = 128, k = 918, acc = f32, addressing = im2col> :
// layer2.1.conv2: 128->128, 3x3, stride 1, 16x16 -> 16x16
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 51 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 51, n = 1152, k = 32768, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 32768, n = 128, k = 459, acc = f32, addressing = im2col> :
// layer2.1.conv1: 128->128, 3x3, stride 1, 16x16 -> 16x16
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 51 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 51, n = 1152, k = 32768, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 32768, n = 128, k = 459, acc = f32, addressing = im2col> :
// layer2.0.shortcut: 64->128, 1x1, stride 2, 32x32 -> 16x16
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 51 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 51, n = 64, k = 32768, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 51, acc = f32, addressing = im2col> :
// layer2.0.conv2: 128->128, 3x3, stride 1, 16x16 -> 16x16
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 51 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 51, n = 1152, k = 32768, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 32768, n = 128, k = 459, acc = f32, addressing = im2col> :
// layer2.0.conv1: 64->128, 3x3, stride 2, 32x32 -> 16x16
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 51 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 51, n = 576, k = 32768, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 459, acc = f32, addressing = im2col> :
// layer1.1.conv2: 64->64, 3x3, stride 1, 32x32 -> 32x32
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 25 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 25, n = 576, k = 131072, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 225, acc = f32, addressing = im2col> :
// layer1.1.conv1: 64->64, 3x3, stride 1, 32x32 -> 32x32
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 25 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 25, n = 576, k = 131072, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 225, acc = f32, addressing = im2col> :
// layer1.0.conv2: 64->64, 3x3, stride 1, 32x32 -> 32x32
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 25 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 25, n = 576, k = 131072, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 225, acc = f32, addressing = im2col> :
// layer1.0.conv1: 64->64, 3x3, stride 1, 32x32 -> 32x32
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 25 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 25, n = 576, k = 131072, acc = f32, addressing = im2col> :
// GEMM18:      ssprop.dgrad {{.*}} gemm = <m = 131072, n = 64, k = 225, acc = f32, addressing = im2col> :
// conv1: 3->64, 3x3, stride 1, 32x32 -> 32x32
// GEMM18:      ssprop.select_topk %{{[^ ]+}} k = 25 :
// GEMM18:      ssprop.wgrad {{.*}} gemm = <m = 25, n = 27, k = 131072, acc = f32, addressing = im2col> :
// GEMM18-NOT:   ssprop.dgrad

// CHECK-LABEL: func.func @resnet18_backward(
// CHECK-NOT:     ssprop.conv2d_backward
// CHECK-NOT:     ssprop.random_seed
// CHECK-NOT:     ssprop.group_offsets

// layer4.1.conv2: 512->512, 3x3, stride 1, 4x4. k = floor(0.4 * 512) = 204.
// wgrad: m = 204, n = 512*3*3 = 4608, k = 128*4*4 = 2048;
// dgrad: m = 128*4*4 = 2048, n = 512, k = 204*3*3 = 1836.
// CHECK:         %[[SCORE0:[^ ]+]] = ssprop.channel_score %arg0 : tensor<128x512x4x4xf32> -> tensor<512xf32>{{$}}
// CHECK-NEXT:    %[[KEPT0:[^ ]+]] = ssprop.select_topk %[[SCORE0]] k = 204 : tensor<512xf32> -> tensor<204xi32>{{$}}
// CHECK-NEXT:    %[[ROWS0:[^ ]+]] = ssprop.wgrad %arg1, %arg0 gather %[[KEPT0]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 204, n = 4608, k = 2048, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<128x512x4x4xf32>, tensor<128x512x4x4xf32>, tensor<204xi32>) -> tensor<204x512x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW0:[^ ]+]] = ssprop.scatter_channels %[[ROWS0]], %[[KEPT0]]
// CHECK-SAME:      {{^}} : (tensor<204x512x3x3xf32>, tensor<204xi32>) -> tensor<512x512x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GI0:[^ ]+]] = ssprop.dgrad %arg0, %arg2 gather %[[KEPT0]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 2048, n = 512, k = 1836, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<128x512x4x4xf32>, tensor<512x512x3x3xf32>, tensor<204xi32>) -> tensor<128x512x4x4xf32>{{$}}

// layer4.1.conv1: the same shapes, its own selection.
// CHECK-NEXT:    %[[SCORE1:[^ ]+]] = ssprop.channel_score %arg3 : tensor<128x512x4x4xf32> -> tensor<512xf32>{{$}}
// CHECK-NEXT:    %[[KEPT1:[^ ]+]] = ssprop.select_topk %[[SCORE1]] k = 204 : tensor<512xf32> -> tensor<204xi32>{{$}}
// CHECK-NEXT:    %[[ROWS1:[^ ]+]] = ssprop.wgrad %arg4, %arg3 gather %[[KEPT1]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 204, n = 4608, k = 2048, acc = f32, addressing = im2col>
// CHECK-NEXT:    %[[GW1:[^ ]+]] = ssprop.scatter_channels %[[ROWS1]], %[[KEPT1]]
// CHECK-NEXT:    %[[GI1:[^ ]+]] = ssprop.dgrad %arg3, %arg5 gather %[[KEPT1]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 2048, n = 512, k = 1836, acc = f32, addressing = im2col>

// layer4.0.shortcut: 256->512, 1x1, stride 2, 8x8 -> 4x4: im2col, not plain.
// wgrad: m = 204, n = 256, k = 128*4*4 = 2048; dgrad: m = 128*8*8 = 8192,
// n = 256, k = 204.
// CHECK-NEXT:    %[[SCORE2:[^ ]+]] = ssprop.channel_score %arg6 : tensor<128x512x4x4xf32> -> tensor<512xf32>{{$}}
// CHECK-NEXT:    %[[KEPT2:[^ ]+]] = ssprop.select_topk %[[SCORE2]] k = 204 : tensor<512xf32> -> tensor<204xi32>{{$}}
// CHECK-NEXT:    %[[ROWS2:[^ ]+]] = ssprop.wgrad %arg7, %arg6 gather %[[KEPT2]] stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 204, n = 256, k = 2048, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<128x256x8x8xf32>, tensor<128x512x4x4xf32>, tensor<204xi32>) -> tensor<204x256x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GW2:[^ ]+]] = ssprop.scatter_channels %[[ROWS2]], %[[KEPT2]]
// CHECK-SAME:      {{^}} : (tensor<204x256x1x1xf32>, tensor<204xi32>) -> tensor<512x256x1x1xf32>{{$}}
// CHECK-NEXT:    %[[GI2:[^ ]+]] = ssprop.dgrad %arg6, %arg8 gather %[[KEPT2]] stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 8192, n = 256, k = 204, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<128x512x4x4xf32>, tensor<512x256x1x1xf32>, tensor<204xi32>) -> tensor<128x256x8x8xf32>{{$}}
// CHECK-NOT:     ssprop.conv2d_backward

// layer1.0.conv1 (layer 18): 64->64, 3x3, 32x32. k = floor(25.6) = 25.
// dgrad: m = 128*32*32 = 131072, n = 64, k = 25*9 = 225.
// CHECK:         ssprop.dgrad %arg54, %arg56 gather %{{[^ ]+}} stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 131072, n = 64, k = 225, acc = f32, addressing = im2col>

// conv1, the stem (layer 19): 3->64, 3x3, 32x32. wgrad: m = 25, n = 3*3*3 = 27,
// k = 128*32*32 = 131072. Its grad_input is unused: no dgrad before the return.
// CHECK-NEXT:    %[[SCORE19:[^ ]+]] = ssprop.channel_score %arg57 : tensor<128x64x32x32xf32> -> tensor<64xf32>{{$}}
// CHECK-NEXT:    %[[KEPT19:[^ ]+]] = ssprop.select_topk %[[SCORE19]] k = 25 : tensor<64xf32> -> tensor<25xi32>{{$}}
// CHECK-NEXT:    %[[ROWS19:[^ ]+]] = ssprop.wgrad %arg58, %arg57 gather %[[KEPT19]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// CHECK-SAME:      {{^}} gemm = <m = 25, n = 27, k = 131072, acc = f32, addressing = im2col>
// CHECK-SAME:      {{^}} : (tensor<128x3x32x32xf32>, tensor<128x64x32x32xf32>, tensor<25xi32>) -> tensor<25x3x3x3xf32>{{$}}
// CHECK-NEXT:    %[[GW19:[^ ]+]] = ssprop.scatter_channels %[[ROWS19]], %[[KEPT19]]
// CHECK-SAME:      {{^}} : (tensor<25x3x3x3xf32>, tensor<25xi32>) -> tensor<64x3x3x3xf32>{{$}}
// CHECK-NEXT:    return %[[GI0]], %[[GW0]], %[[GI1]], %[[GW1]], %[[GI2]], %[[GW2]],
// CHECK-SAME:      %[[GW19]] : tensor<128x512x4x4xf32>,
// CHECK-NOT:     ssprop.

//===----------------------------------------------------------------------===//
// resnet50: 53 convolutions, 52 dgrads.
//===----------------------------------------------------------------------===//

// TOPK50-COUNT-53: ssprop.select_topk
// TOPK50-NOT:      ssprop.select_topk

// SCORE50-COUNT-53: ssprop.channel_score
// SCORE50-NOT:      ssprop.channel_score

// SUM50-NOT: ssprop.channel_sum

// SCATTER50-COUNT-53: ssprop.scatter_channels
// SCATTER50-NOT:       ssprop.scatter_channels

// WGRAD50-COUNT-53: ssprop.wgrad
// WGRAD50-NOT:      ssprop.wgrad

// DGRAD50-COUNT-52: ssprop.dgrad
// DGRAD50-NOT:      ssprop.dgrad

// R50-LABEL: func.func @resnet50_backward(
// R50-NOT:     ssprop.conv2d_backward
// R50-NOT:     ssprop.random_seed
// R50-NOT:     ssprop.group_offsets

// layer4.2.conv3: 512->2048, 1x1, stride 1, 7x7: plain. k = floor(819.2) = 819.
// wgrad: m = 819, n = 512, k = 128*7*7 = 6272;
// dgrad: m = 6272, n = 512, k = 819.
// R50:         %[[SCORE0:[^ ]+]] = ssprop.channel_score %arg0 : tensor<128x2048x7x7xf32> -> tensor<2048xf32>{{$}}
// R50-NEXT:    %[[KEPT0:[^ ]+]] = ssprop.select_topk %[[SCORE0]] k = 819 : tensor<2048xf32> -> tensor<819xi32>{{$}}
// R50-NEXT:    %[[ROWS0:[^ ]+]] = ssprop.wgrad %arg1, %arg0 gather %[[KEPT0]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 819, n = 512, k = 6272, acc = f32, addressing = plain>
// R50-SAME:      {{^}} : (tensor<128x512x7x7xf32>, tensor<128x2048x7x7xf32>, tensor<819xi32>) -> tensor<819x512x1x1xf32>{{$}}
// R50-NEXT:    %[[GW0:[^ ]+]] = ssprop.scatter_channels %[[ROWS0]], %[[KEPT0]]
// R50-SAME:      {{^}} : (tensor<819x512x1x1xf32>, tensor<819xi32>) -> tensor<2048x512x1x1xf32>{{$}}
// R50-NEXT:    %[[GI0:[^ ]+]] = ssprop.dgrad %arg0, %arg2 gather %[[KEPT0]] stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 6272, n = 512, k = 819, acc = f32, addressing = plain>
// R50-SAME:      {{^}} : (tensor<128x2048x7x7xf32>, tensor<2048x512x1x1xf32>, tensor<819xi32>) -> tensor<128x512x7x7xf32>{{$}}

// layer4.2.conv2: 512->512, 3x3, 7x7. k = 204. wgrad: m = 204, n = 4608,
// k = 6272; dgrad: m = 6272, n = 512, k = 204*9 = 1836.
// R50-NEXT:    %[[SCORE1:[^ ]+]] = ssprop.channel_score %arg3 : tensor<128x512x7x7xf32> -> tensor<512xf32>{{$}}
// R50-NEXT:    %[[KEPT1:[^ ]+]] = ssprop.select_topk %[[SCORE1]] k = 204 : tensor<512xf32> -> tensor<204xi32>{{$}}
// R50-NEXT:    %[[ROWS1:[^ ]+]] = ssprop.wgrad %arg4, %arg3 gather %[[KEPT1]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 204, n = 4608, k = 6272, acc = f32, addressing = im2col>
// R50-NEXT:    %[[GW1:[^ ]+]] = ssprop.scatter_channels %[[ROWS1]], %[[KEPT1]]
// R50-NEXT:    %[[GI1:[^ ]+]] = ssprop.dgrad %arg3, %arg5 gather %[[KEPT1]] stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 6272, n = 512, k = 1836, acc = f32, addressing = im2col>
// R50-NOT:     ssprop.conv2d_backward

// layer1.0.conv1 (layer 51): 64->64, 1x1, 56x56: plain. k = 25.
// wgrad: m = 25, n = 64, k = 128*56*56 = 401408;
// dgrad: m = 401408, n = 64, k = 25.
// R50:         ssprop.wgrad %arg154, %arg153 gather %{{[^ ]+}} stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 25, n = 64, k = 401408, acc = f32, addressing = plain>
// R50-NEXT:    ssprop.scatter_channels
// R50-NEXT:    ssprop.dgrad %arg153, %arg155 gather %{{[^ ]+}} stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 401408, n = 64, k = 25, acc = f32, addressing = plain>

// conv1, the stem (layer 52): 3->64, 7x7, stride 2, padding 3, 224 -> 112.
// wgrad: m = 25, n = 3*7*7 = 147, k = 128*112*112 = 1605632. No dgrad.
// R50-NEXT:    %[[SCORE52:[^ ]+]] = ssprop.channel_score %arg156 : tensor<128x64x112x112xf32> -> tensor<64xf32>{{$}}
// R50-NEXT:    %[[KEPT52:[^ ]+]] = ssprop.select_topk %[[SCORE52]] k = 25 : tensor<64xf32> -> tensor<25xi32>{{$}}
// R50-NEXT:    %[[ROWS52:[^ ]+]] = ssprop.wgrad %arg157, %arg156 gather %[[KEPT52]] stride = [2, 2] padding = [3, 3] dilation = [1, 1] groups = 1
// R50-SAME:      {{^}} gemm = <m = 25, n = 147, k = 1605632, acc = f32, addressing = im2col>
// R50-SAME:      {{^}} : (tensor<128x3x224x224xf32>, tensor<128x64x112x112xf32>, tensor<25xi32>) -> tensor<25x3x7x7xf32>{{$}}
// R50-NEXT:    %[[GW52:[^ ]+]] = ssprop.scatter_channels %[[ROWS52]], %[[KEPT52]]
// R50-SAME:      {{^}} : (tensor<25x3x7x7xf32>, tensor<25xi32>) -> tensor<64x3x7x7xf32>{{$}}
// R50-NEXT:    return %[[GI0]], %[[GW0]], %[[GI1]], %[[GW1]],
// R50-SAME:      %[[GW52]] : tensor<128x512x7x7xf32>,
// R50-NOT:     ssprop.
