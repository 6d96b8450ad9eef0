// RUN: ssprop-opt %s --ssprop-lower-to-gemm | ssprop-translate --ssprop-to-cpu \
// RUN:   | FileCheck %s
// RUN: sed 's/f32>/bf16>/g' %s | ssprop-opt --ssprop-lower-to-gemm \
// RUN:   | ssprop-translate --ssprop-to-cpu --ssprop-isa=avx512 \
// RUN:       --ssprop-cpu-tile=w8x3_d8x3t --ssprop-threads=2 \
// RUN:   | FileCheck %s --check-prefix=BF16

// A topk layer at keep 0.4 (k = 6 of 16, kernels for the bucket of 16):
// scoring fused with the bias sums, selection, the kept positions, the bias
// scatter, the gathered wgrad and its scatter, the packed weights and the
// gathered dgrad, each call with its tile count.

// CHECK-LABEL: // ===== @conv for avx2, tile w6x2_d5x2t, 1 thread(s)
// CHECK-NEXT: // buffer %0: temporary score f32[16]
// CHECK-NEXT: // buffer %1: temporary sums f32[16]
// CHECK-NEXT: // buffer %2: temporary partials f32[512]
// CHECK-NEXT: // buffer %3: argument 0 arg0 f32[2048]
// CHECK-NEXT: // buffer %4: temporary kept i32[16]
// CHECK-NEXT: // buffer %5: temporary keys i32[16]
// CHECK-NEXT: // buffer %6: temporary positions i32[16]
// CHECK-NEXT: // buffer %7: result 1 scattered f32[16]
// CHECK-NEXT: // buffer %8: temporary wgrad_partials f32[1152]
// CHECK-NEXT: // buffer %9: argument 1 arg1 f32[1024]
// CHECK-NEXT: // buffer %10: scratch per worker scratch f32[2688]
// CHECK-NEXT: // buffer %11: result 0 scattered f32[1152]
// CHECK-NEXT: // buffer %12: temporary packed_weight f32[1440]
// CHECK-NEXT: // buffer %13: argument 2 arg2 f32[1152]
// CHECK-NEXT: // buffer %14: result 2 grad_input f32[1024]
// CHECK-NEXT: // buffer %15: scratch per worker scratch f32[1344]
// CHECK-NEXT: // call [[REDUCE:ssprop_cpu_reduce_f32_abs_sum_[0-9a-f]{8}]] tiles(2) (%3, %2)
// CHECK-NEXT: // call [[FINISH:ssprop_cpu_reduce_finish_score_sum_f32_[0-9a-f]{8}]] tiles(1) (%2, %0, %1)
// CHECK-NEXT: // sync %0 (scores: summed over data-parallel processes)
// CHECK-NEXT: // call [[SELECT:ssprop_cpu_select_topk_c16_[0-9a-f]{8}]] tiles(1) (%0, %5, %4, 6)
// CHECK-NEXT: // call [[POSITIONS:ssprop_cpu_positions_c16_[0-9a-f]{8}]] tiles(1) (%4, %6, 6)
// CHECK-NEXT: // call [[BIAS:ssprop_cpu_scatter_f32_channels_s1_[0-9a-f]{8}]] tiles(16) (%1, %6, %7)
// CHECK-NEXT: // call [[WGRAD:ssprop_cpu_wgrad_f32_6x2_gather_c1_v8_[0-9a-f]{8}]] tiles(1) (%9, %3, %4, %8, %10, 6)
// CHECK-NEXT: // call [[SCATTER:ssprop_cpu_scatter_f32_kept_s1_[0-9a-f]{8}]] tiles(16) (%8, %6, %11)
// CHECK-NEXT: // call [[PACK:ssprop_cpu_pack_weight_f32_5_gather_[0-9a-f]{8}]] tiles(2) (%13, %4, %12, 6)
// CHECK-NEXT: // call [[DGRAD:ssprop_cpu_dgrad_f32_5x2t_gather_v8_[0-9a-f]{8}]] tiles(2) (%3, %12, %4, %14, %15, 6)

// One pass over dy: per chunk of images, vectors of |dy| (the sign bit
// cleared) and dy per channel.
// CHECK: func.func @[[REDUCE]](%arg0: memref<2048xf32>, %arg1: memref<512xf32>, %arg2: index, %arg3: index)
// CHECK: arith.andi {{.*}} : vector<8xi32>
// CHECK: arith.addf {{.*}} : vector<8xf32>

// The scores and sums in a fixed order: ordered lane sums (no reassoc).
// CHECK: func.func @[[FINISH]](
// CHECK: vector.reduction <add>, {{%[0-9a-z]+}} : vector<8xf32> into f32
// CHECK: arith.divf

// Exact top k: a channel is kept when fewer than k keys are larger, or equal
// at a lower channel.
// CHECK: func.func @[[SELECT]](%arg0: memref<16xf32>, %arg1: memref<16xi32>, %arg2: memref<16xi32>, %arg3: index,
// CHECK: arith.cmpi ugt, {{.*}} : vector<8xi32>
// CHECK: vector.reduction <add>, {{.*}} : vector<8xi32> into i32
// CHECK: arith.cmpi slt

// wgrad: per tile (a chunk of images), dy's kept rows and x packed into the
// scratch; a 6x2 tile of vector accumulators along the reduction, x read
// through the mask table (a constant of the module), lane sums in a fixed
// tree.
// CHECK: memref.global "private" constant @[[WGRAD]]_masks : memref<576xi32> = dense<"0x
// CHECK-NEXT: func.func @[[WGRAD]](%arg0: memref<1024xf32>, %arg1: memref<2048xf32>, %arg2: memref<16xi32>, %arg3: memref<1152xf32>, %arg4: memref<2688xf32>, %arg5: index, %arg6: index, %arg7: index)
// CHECK: memref.get_global @[[WGRAD]]_masks : memref<576xi32>
// CHECK: scf.for %{{.*}} = %arg6 to %arg7
// CHECK: scf.for %{{.*}} = %c0 to %arg5 step %c6
// CHECK: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: arith.cmpi slt, {{.*}} : vector<8xi32>
// CHECK: vector.maskedload %arg4[{{.*}}], {{.*}} : memref<2688xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: vector.maskedload %arg4[{{.*}}], {{.*}} : memref<2688xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: vector.load %arg4[{{.*}}] : memref<2688xf32>, vector<8xf32>
// CHECK-NEXT: vector.fma
// CHECK-NEXT: vector.fma
// CHECK: vector.reduction <add>, {{.*}} fastmath<reassoc> : vector<8xf32> into f32

// The weight gradient's rows summed over the chunks and placed by position.
// CHECK: func.func @[[SCATTER]](
// CHECK: memref.load %arg1[{{.*}}] : memref<16xi32>
// CHECK: arith.cmpi sge

// dgrad: broadcast packed weights times masked dy vectors into a 5x2 tile,
// stored straight to dx (stride 1).
// CHECK: func.func @[[DGRAD]](%arg0: memref<2048xf32>, %arg1: memref<1440xf32>, %arg2: memref<16xi32>, %arg3: memref<1024xf32>, %arg4: memref<1344xf32>, %arg5: index, %arg6: index, %arg7: index)
// CHECK: vector.maskedload %arg4[{{.*}}], {{.*}} : memref<1344xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK-NEXT: vector.fma
// CHECK: vector.store {{.*}}, %arg3[{{.*}}] : memref<1024xf32>, vector<8xf32>

// bf16 for AVX-512: 16 lanes, the tensors as their 16-bit patterns, widened
// on load; wgrad's reduction split over 2 chunks, summed by the scatter.
// BF16-LABEL: // ===== @conv for avx512, tile w8x3_d8x3t, 2 thread(s)
// BF16: // buffer %3: argument 0 arg0 bf16[2048]
// BF16: // call [[WGRAD:ssprop_cpu_wgrad_bf16_8x3_gather_c2_v16_[0-9a-f]{8}]] tiles(2) (%9, %3, %4, %8, %10, 6)
// BF16-NEXT: // call [[SCATTER:ssprop_cpu_scatter_bf16_kept_s2_[0-9a-f]{8}]] tiles(16)
// BF16: func.func @[[WGRAD]](%arg0: memref<1024xi16>, %arg1: memref<2048xi16>,
// BF16: vector.load %arg0[{{.*}}] : memref<1024xi16>, vector<16xi16>
// BF16-NEXT: arith.extui {{.*}} : vector<16xi16> to vector<16xi32>
// BF16: vector.fma {{.*}} : vector<16xf32>
// The round to nearest even of the bf16 results.
// BF16: func.func @[[SCATTER]](
// BF16: arith.addi
// BF16: arith.shrui
// BF16: arith.trunci {{.*}} : vector<16xi32> to vector<16xi16>
// BF16: arith.cmpf uno

func.func @conv(%dy: tensor<2x16x8x8xf32>, %x: tensor<2x8x8x8xf32>, %w: tensor<16x8x3x3xf32>)
    -> (tensor<16x8x3x3xf32>, tensor<16xf32>, tensor<2x8x8x8xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      sparsity = <keep = 0.4, select = topk>
      : (tensor<2x16x8x8xf32>, tensor<2x8x8x8xf32>, tensor<16x8x3x3xf32>)
      -> (tensor<2x8x8x8xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>)
  return %gw, %gb, %gi : tensor<16x8x3x3xf32>, tensor<16xf32>, tensor<2x8x8x8xf32>
}
