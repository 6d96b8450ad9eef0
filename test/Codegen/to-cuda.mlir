// A kernel source is the kernel alone, with no host entry point (_host).
// RUN: ssprop-opt %s --ssprop-lower-to-gemm | ssprop-translate --ssprop-to-cuda \
// RUN:   | FileCheck %s --implicit-check-not=_host
// RUN: ssprop-opt %s --ssprop-lower-to-gemm \
// RUN:   | ssprop-translate --ssprop-to-cuda --ssprop-arch=sm_80 \
// RUN:       --ssprop-dgrad-tile=128x128x8_8x8 --ssprop-wgrad-tile=32x64x16_2x4 \
// RUN:       --ssprop-wgrad-split-k=3 \
// RUN:   | FileCheck %s --check-prefix=SM80
// RUN: ssprop-opt %s --ssprop-lower-to-gemm | ssprop-translate --ssprop-to-cuda \
// RUN:     --ssprop-print-prelude | FileCheck %s --check-prefix=PRELUDE

// A topk layer in f16 at keep 0.4 (k = 6 of 16): scoring fused with the bias
// sums, selection, the gathered wgrad with its scatter, the gathered dgrad;
// by default on tensor cores.

// CHECK-LABEL: // ===== @conv for sm_90, dgrad tile tc64x64_w4s4, wgrad tile tc64x64_w4s4
// CHECK-NEXT: // buffer %0: temporary score f32[16]
// CHECK-NEXT: // buffer %1: temporary sums f32[16]
// CHECK-NEXT: // buffer %2: argument 0 arg0 f16[2048]
// CHECK-NEXT: // buffer %3: temporary kept i32[6]
// CHECK-NEXT: // buffer %4: result 2 scattered f16[16]
// CHECK-NEXT: // buffer %5: temporary wgrad_partials f32[1152]
// CHECK-NEXT: // buffer %6: argument 1 arg1 f16[1024]
// CHECK-NEXT: // buffer %7: result 1 scattered f16[1152]
// CHECK-NEXT: // buffer %8: result 0 grad_input f16[1024]
// CHECK-NEXT: // buffer %9: argument 2 arg2 f16[1152]
// CHECK-NEXT: // launch [[REDUCE:ssprop_reduce_score_sum_f16_sm90_[0-9a-f]{8}]] grid(16, 1, 1) block(256, 1, 1) (%2, null, 0, %0, %1)
// CHECK-NEXT: // sync %0 (scores: summed over data-parallel processes)
// CHECK-NEXT: // launch [[SELECT:ssprop_select_topk_c16_sm90_[0-9a-f]{8}]] grid(1, 1, 1) block(32, 1, 1) (%0, 0, 6, %3)
// CHECK-NEXT: // launch [[BIAS:ssprop_scatter_kept_f16_sm90_[0-9a-f]{8}]] grid(1, 1, 1) block(256, 1, 1) (%1, %3, 6, %4)
// CHECK-NEXT: // launch [[WGRAD:ssprop_wgrad_f16_tc64x64_w4s4_gather_sm90_[0-9a-f]{8}]] grid(1, 2, 1) block(128, 1, 1) (%6, %2, %3, 6, %5)
// CHECK-NEXT: // launch [[SCATTER:ssprop_scatter_kept_f16_sm90_[0-9a-f]{8}]] grid(5, 1, 1) block(256, 1, 1) (%5, %3, 6, %7)
// CHECK-NEXT: // launch [[DGRAD:ssprop_dgrad_f16_tc64x64_w4s4_gather_sm90_[0-9a-f]{8}]] grid(2, 1, 1) block(128, 1, 1) (%2, %9, %3, null, 6, %8)

// The fused reduction: score and the sums of all channels in one pass.
// CHECK: // ----- kernel [[REDUCE]]
// CHECK: #define SSPROP_USE_F16 1
// CHECK-NEXT: // ssprop prelude elided
// CHECK: extern "C" __global__ void __launch_bounds__(256, 1)
// CHECK-NEXT: [[REDUCE]](const __half *__restrict__ dy,
// CHECK: constexpr int N = 2;
// CHECK-NEXT: constexpr int C = 16;
// CHECK-NEXT: constexpr int HW = 64;
// CHECK: constexpr bool GATHER = false;
// CHECK-NEXT: constexpr bool WITH_SCORE = true;
// CHECK-NEXT: constexpr bool WITH_SUM = true;

// CHECK: // ----- kernel [[SELECT]]
// CHECK: extern "C" __global__ void __launch_bounds__(32, 1)
// CHECK: constexpr int C = 16;
// CHECK: constexpr bool RANDOM = false;
// CHECK: __shared__ unsigned int keys[C];

// The bias: kept channels' sums placed by channel, zero elsewhere.
// CHECK: // ----- kernel [[BIAS]]
// CHECK: constexpr int INNER = 1;
// CHECK-NEXT: constexpr int SPLITS = 1;
// CHECK-NEXT: constexpr int ROWS_PER_SPLIT = 16;
// CHECK: constexpr int SOURCE = 1;

// wgrad: the gather is in the address of dy's elements, which the engine
// copies from global to shared memory; K moves 32 f16 (64 bytes) per stage.
// CHECK: // ----- kernel [[WGRAD]]
// CHECK: extern "C" __global__ void __launch_bounds__(128, 1)
// CHECK: constexpr int COUT = 16;
// CHECK: constexpr bool PLAIN = false;
// CHECK-NEXT: constexpr int BM = 64;
// CHECK-NEXT: constexpr int BN = 64;
// CHECK-NEXT: constexpr int BK = 32;
// CHECK-NEXT: constexpr int THREADS = 128;
// CHECK-NEXT: constexpr bool GATHER = true;
// CHECK-NEXT: constexpr int K_BUCKET = 16;
// CHECK-NEXT: constexpr int WM = 32;
// CHECK-NEXT: constexpr int WN = 32;
// CHECK-NEXT: constexpr int STAGES = 4;
// CHECK-NEXT: typedef ssprop_rt::TensorCoreGemm<T, BM, BN, BK, WM, WN, STAGES, THREADS> Gemm;
// CHECK-NEXT: constexpr int ROWS_PER_SPLIT = 16;
// CHECK-NEXT: constexpr int ROW_TILES_PER_GROUP = 1;
// CHECK-NEXT: constexpr int K_PER_SPLIT = 128;
// CHECK: const int channel = GATHER ? kept[row] : row;
// CHECK-NEXT: const int n = kidx / (HO * WO), pq = kidx - n * (HO * WO);
// CHECK-NEXT: return dy + ((long long)n * COUT + channel) * (HO * WO) + pq;
// CHECK: Gemm::run<true, true>(kBegin, kEnd, dy, addrA, x, addrB, write);

// CHECK: // ----- kernel [[SCATTER]]
// CHECK: constexpr int INNER = 72;
// CHECK-NEXT: constexpr int SPLITS = 1;
// CHECK-NEXT: constexpr int ROWS_PER_SPLIT = 16;
// CHECK: constexpr int SOURCE = 0;

// dgrad: the kept rows of W and channels of dy are read through the list.
// CHECK: // ----- kernel [[DGRAD]]
// CHECK: constexpr bool GATHER = true;
// CHECK-NEXT: constexpr int K_BUCKET = 16;
// CHECK: constexpr int KMAX = 144;
// CHECK: const int channel = GATHER ? kept[lo + jj] : lo + jj;
// CHECK: return dy + (((long long)n * COUT + channel) * HO + oh) * WO + ow;
// CHECK: return weight + ((long long)channel * CIN_G + col) * TAPS + t;
// CHECK: Gemm::run<false, false>(0, min(kdim, KMAX), dy, addrA, weight, addrB, write);

// sm_80, the exact-f32 SIMT tiles and a forced split-K of 3 (K = 2 * 8 * 8 =
// 128 in steps of 48).
// SM80-LABEL: // ===== @conv for sm_80, dgrad tile 128x128x8_8x8, wgrad tile 32x64x16_2x4
// SM80: launch ssprop_wgrad_f16_32x64x16_2x4_gather_sm80_{{[0-9a-f]+}} grid(1, 2, 3) block(256, 1, 1)
// SM80: launch ssprop_dgrad_f16_128x128x8_8x8_gather_sm80_{{[0-9a-f]+}} grid(1, 1, 1) block(256, 1, 1)
// SM80: constexpr int K_BUCKET = 16;
// SM80: typedef ssprop_rt::SimtGemm<T, BM, BN, BK, TM, TN, THREADS> Gemm;
// SM80: constexpr int K_PER_SPLIT = 48;
// SM80: constexpr int SPLITS = 3;

// PRELUDE: #ifndef SSPROP_PRELUDE
// PRELUDE: SSPROP_DEVICE uint32_t random_key(uint64_t seed, int channel) {
// PRELUDE: mma.sync.aligned.
// PRELUDE: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PRELUDE: cp.async.ca.shared.global
// PRELUDE: #endif // SSPROP_PRELUDE
// PRELUDE-NOT: ssprop prelude elided

func.func @conv(%dy: tensor<2x16x8x8xf16>, %x: tensor<2x8x8x8xf16>, %w: tensor<16x8x3x3xf16>)
    -> (tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w stride = [1, 1] padding = [1, 1]
      dilation = [1, 1] groups = 1 sparsity = <keep = 0.4, select = topk>
      : (tensor<2x16x8x8xf16>, tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>)
      -> (tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>)
  return %gi, %gw, %gb : tensor<2x8x8x8xf16>, tensor<16x8x3x3xf16>, tensor<16xf16>
}
