#ifndef SSPROP_PRELUDE
#define SSPROP_PRELUDE
// ssprop kernel prelude: the device helpers every generated kernel uses. The code
// generator pastes this text into each kernel source, so that a source compiles
// alone under NVRTC (needing only CUDA's own headers) and, with the host
// emulation header force-included, as plain C++ on a machine without a GPU.
// Arch-specific code (inline PTX) belongs here and nowhere else.

#if defined(__CUDACC_RTC__)
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef int int32_t;
#if defined(SSPROP_USE_F16)
#include <cuda_fp16.h>
#endif
#if defined(SSPROP_USE_BF16)
#include <cuda_bf16.h>
#endif
#else
#include <cstdint>
#endif

#define SSPROP_DEVICE __device__ __forceinline__

namespace ssprop_rt {

// --- element conversion: every kernel loads to and accumulates in f32 --------
SSPROP_DEVICE float load(const float *p) { return *p; }
SSPROP_DEVICE void store(float *p, float v) { *p = v; }
#if defined(SSPROP_USE_F16) || !defined(__CUDACC__)
SSPROP_DEVICE float load(const __half *p) { return __half2float(*p); }
SSPROP_DEVICE void store(__half *p, float v) { *p = __float2half_rn(v); }
#endif
#if defined(SSPROP_USE_BF16) || !defined(__CUDACC__)
SSPROP_DEVICE float load(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
SSPROP_DEVICE void store(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }
#endif

// --- reductions ----------------------------------------------------------------
SSPROP_DEVICE float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over a block of THREADS threads (a multiple of 32); every thread gets it.
// `scratch` holds one float per warp.
template <int THREADS>
SSPROP_DEVICE float block_sum(float v, float *scratch) {
  constexpr int WARPS = THREADS / 32;
  v = warp_sum(v);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads(); // scratch may still be read by a previous call
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  v = lane < WARPS ? scratch[lane] : 0.0f;
  return warp_sum(v);
}

// Exclusive prefix sum over a block of THREADS threads; `scratch` holds one int
// per warp. Returns this thread's offset; `total` gets the block's sum.
template <int THREADS>
SSPROP_DEVICE int block_exclusive_scan(int v, int *scratch, int &total) {
  constexpr int WARPS = THREADS / 32;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int inclusive = v;
  for (int offset = 1; offset < 32; offset <<= 1) {
    int other = __shfl_up_sync(0xffffffffu, inclusive, offset);
    if (lane >= offset)
      inclusive += other;
  }
  __syncthreads();
  if (lane == 31)
    scratch[warp] = inclusive;
  __syncthreads();
  int warpOffset = 0;
  total = 0;
  for (int w = 0; w < WARPS; ++w) {
    if (w < warp)
      warpOffset += scratch[w];
    total += scratch[w];
  }
  return warpOffset + inclusive - v;
}

// --- kept-channel lists: ascending int32 channel numbers -------------------------
// First position in sorted[0, n) whose value is >= value.
SSPROP_DEVICE int lower_bound(const int *sorted, int n, int value) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (sorted[mid] < value)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Position of `channel` in sorted[0, n), or -1 when it is not kept.
SSPROP_DEVICE int find_kept(const int *sorted, int n, int channel) {
  int pos = lower_bound(sorted, n, channel);
  return pos < n && sorted[pos] == channel ? pos : -1;
}

// --- selection keys: a total order in which larger means "keep first" --------------
// Orders floats (NaN above +inf) as unsigned integers.
SSPROP_DEVICE uint32_t float_order_key(float v) {
  uint32_t bits = __float_as_uint(v);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// A 32-bit pseudo-random key per (seed, channel): the channels with the largest
// keys are the first entries of a random permutation (splitmix64 finaliser).
SSPROP_DEVICE uint32_t random_key(uint64_t seed, int channel) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(channel + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

// --- SIMT GEMM core -----------------------------------------------------------------
template <int TM, int TN> SSPROP_DEVICE void zero(float (&acc)[TM][TN]) {
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j)
      acc[i][j] = 0.0f;
}


// acc[TM][TN] += As[kk][row0 + i] * Bs[kk][col0 + j] over kk < BK; tiles are
// stored K-major in shared memory, each thread owns a TM x TN register block.
template <int BM, int BN, int BK, int TM, int TN>
SSPROP_DEVICE void simt_mma(const float (*As)[BM], const float (*Bs)[BN],
                            float (&acc)[TM][TN], int row0, int col0) {
#pragma unroll
  for (int kk = 0; kk < BK; ++kk) {
    float a[TM], b[TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
      a[i] = As[kk][row0 + i];
#pragma unroll
    for (int j = 0; j < TN; ++j)
      b[j] = Bs[kk][col0 + j];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j)
        acc[i][j] += a[i] * b[j];
  }
}

} // namespace ssprop_rt

#endif // SSPROP_PRELUDE
