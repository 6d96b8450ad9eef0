#ifndef SSPROP_PRELUDE
#define SSPROP_PRELUDE
// ssprop kernel prelude: the device helpers every generated kernel uses. The
// code generator pastes this text into each kernel source, so that a source
// compiles alone under NVRTC, needing only CUDA's own headers. Arch-specific
// code (inline PTX) belongs here and nowhere else.

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
#if defined(SSPROP_USE_F16)
SSPROP_DEVICE float load(const __half *p) { return __half2float(*p); }
SSPROP_DEVICE void store(__half *p, float v) { *p = __float2half_rn(v); }
SSPROP_DEVICE uint32_t raw_bits(__half v) { return __half_as_ushort(v); }
#endif
#if defined(SSPROP_USE_BF16)
SSPROP_DEVICE float load(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
SSPROP_DEVICE void store(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }
SSPROP_DEVICE uint32_t raw_bits(__nv_bfloat16 v) {
  return __bfloat16_as_ushort(v);
}
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

// --- GEMM operands, gathered element by element ------------------------------
// Both GEMM kernels describe an operand by addr(row, k): a pointer to element
// (row of A or column of B, GEMM k), or null where it is zero (padding, a
// masked row); the engines below never ask for k past kEnd. The result goes
// out through write(row, col, value), rows and columns relative to the tile.

// Element e of a ROWS x KS tile: consecutive e walk k (K_FASTEST) or rows, so
// that consecutive threads read consecutive addresses of the operand.
template <int ROWS, int KS, bool K_FASTEST>
SSPROP_DEVICE void tile_coords(int e, int &row, int &k) {
  row = K_FASTEST ? e / KS : e % ROWS;
  k = K_FASTEST ? e % KS : e / ROWS;
}

template <int TM, int TN> SSPROP_DEVICE void zero(float (&acc)[TM][TN]) {
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j)
      acc[i][j] = 0.0f;
}

// --- SIMT GEMM: exact f32 ----------------------------------------------------
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

// A BM x BN tile: BK-deep slices of both operands in shared memory (as f32),
// a TM x TN register block per thread.
template <class T, int BM, int BN, int BK, int TM, int TN, int THREADS>
struct SimtGemm {
  template <int ROWS, bool K_FASTEST, class Addr>
  SSPROP_DEVICE static void load(float (*tile)[ROWS], int k0, int kEnd,
                                 const Addr &addr) {
    for (int e = threadIdx.x; e < ROWS * BK; e += THREADS) {
      int row, kk;
      tile_coords<ROWS, BK, K_FASTEST>(e, row, kk);
      const T *p = k0 + kk < kEnd ? addr(row, k0 + kk) : nullptr;
      tile[kk][row] = p ? ssprop_rt::load(p) : 0.0f;
    }
  }

  template <bool A_K_FASTEST, bool B_K_FASTEST, class AddrA, class AddrB,
            class Write>
  SSPROP_DEVICE static void run(int kBegin, int kEnd, const T *,
                                const AddrA &addrA, const T *,
                                const AddrB &addrB, const Write &write) {
    __shared__ float As[BK][BM];
    __shared__ float Bs[BK][BN];
    const int tx = threadIdx.x % (BN / TN), ty = threadIdx.x / (BN / TN);
    float acc[TM][TN];
    zero(acc);
    for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
      load<BM, A_K_FASTEST>(As, k0, kEnd, addrA);
      load<BN, B_K_FASTEST>(Bs, k0, kEnd, addrB);
      __syncthreads();
      simt_mma<BM, BN, BK, TM, TN>(As, Bs, acc, ty * TM, tx * TN);
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j)
        write(ty * TM + i, tx * TN + j, acc[i][j]);
  }
};

// --- inline PTX (sm_80+): every asm statement of the kernels is here ---------
// Only a CUDA compiler takes inline PTX. The one hook for a host build of a
// kernel source (test/Codegen's emulation): without __CUDACC__ these wrappers
// are left out, and the host build defines them before the prelude.
#if defined(__CUDACC__)

// cvt.rna.tf32.f32: v rounded to TF32 (10-bit significand, ties away from 0).
SSPROP_DEVICE uint32_t to_tf32(float v) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));
  return r;
}

// d += A * B for one warp-wide m16n8 tile, d and c the same registers: the
// wrapper NAME of the PTX SHAPE_AND_TYPES.
#define SSPROP_MMA_M16N8(NAME, SHAPE_AND_TYPES)                                \
  SSPROP_DEVICE void NAME(float(&d)[4], const uint32_t(&a)[4],                 \
                          const uint32_t(&b)[2]) {                             \
    asm volatile("mma.sync.aligned." SHAPE_AND_TYPES                           \
                 " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"      \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])              \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),      \
                   "r"(b[1]));                                                 \
  }
// A 16x8 and B 8x8 in TF32 (to_tf32 bit patterns).
SSPROP_MMA_M16N8(mma_tf32_m16n8k8, "m16n8k8.row.col.f32.tf32.tf32.f32")
// A 16x16 and B 16x8 in f16 pairs (lower half: lower index).
SSPROP_MMA_M16N8(mma_f16_m16n8k16, "m16n8k16.row.col.f32.f16.f16.f32")
// A 16x16 and B 16x8 in bf16 pairs (lower half: lower index).
SSPROP_MMA_M16N8(mma_bf16_m16n8k16, "m16n8k16.row.col.f32.bf16.bf16.f32")
#undef SSPROP_MMA_M16N8

// ldmatrix.x4: lane 8j + r names row r (16 bytes) of 8x8 matrix j; lane l
// gets word l % 4 of row l / 4 of matrix j in r[j].
SSPROP_DEVICE void ldmatrix_x4(uint32_t (&r)[4], const uint32_t *row) {
  asm volatile(
      "{ .reg .u64 a; .reg .u32 s; cvta.to.shared.u64 a, %4;\n"
      "  cvt.u32.u64 s, a;\n"
      "  ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [s]; }"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "l"(row));
}

// cp.async of 4 bytes global -> shared; zero-filled instead when !valid (the
// source address must still be a valid global address).
SSPROP_DEVICE void cp_async4(uint32_t *dst, const void *src, bool valid) {
  asm volatile("{ .reg .u64 a; .reg .u32 s; cvta.to.shared.u64 a, %0;\n"
               "  cvt.u32.u64 s, a;\n"
               "  cp.async.ca.shared.global [s], [%1], 4, %2; }"
               :
               : "l"(dst), "l"(src), "r"(valid ? 4 : 0)
               : "memory");
}

SSPROP_DEVICE void cp_async_commit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}

// Waits until at most PENDING of this thread's newest commit groups are in
// flight. Other threads' copies are visible only after a __syncthreads.
template <int PENDING> SSPROP_DEVICE void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(PENDING) : "memory");
}

#endif // defined(__CUDACC__)

// --- tensor-core GEMM: mma.sync with a cp.async pipeline ---------------------
// Shared memory holds both operands K-contiguous, in 32-bit words: a row is 64
// bytes of K (16 f32, or 32 f16/bf16 as pairs) and 4 words of padding, so
// consecutive rows start 20 words apart and the 8 rows of 16 bytes that one
// ldmatrix phase reads fall into 8 distinct groups of 4 banks.
// In words, the TF32 m16n8k8 and the f16/bf16 m16n8k16 fragments are the same
// (a: rows g, g+8 x words t, t+4; b: words t, t+4 of row n = g), so one
// fragment loader serves both.
constexpr int TC_K_WORDS = 16;
constexpr int TC_ROW_WORDS = TC_K_WORDS + 4;

// Operands as the tensor core takes them: 16-bit pairs as they are; f32 from
// shared memory rounded to TF32 (cvt.rna, as cuDNN does).
template <class T> struct TensorCoreOps {
  static constexpr int PER_WORD = 2;
  SSPROP_DEVICE static uint32_t operand(uint32_t word) { return word; }
};
template <> struct TensorCoreOps<float> {
  static constexpr int PER_WORD = 1;
  SSPROP_DEVICE static uint32_t operand(uint32_t word) {
    return to_tf32(__uint_as_float(word));
  }
};

// The mma of each operand type, chosen by the type of the first argument.
SSPROP_DEVICE void mma_for(float, float (&d)[4], const uint32_t (&a)[4],
                           const uint32_t (&b)[2]) {
  mma_tf32_m16n8k8(d, a, b);
}
#if defined(SSPROP_USE_F16)
SSPROP_DEVICE void mma_for(__half, float (&d)[4], const uint32_t (&a)[4],
                           const uint32_t (&b)[2]) {
  mma_f16_m16n8k16(d, a, b);
}
#endif
#if defined(SSPROP_USE_BF16)
SSPROP_DEVICE void mma_for(__nv_bfloat16, float (&d)[4], const uint32_t (&a)[4],
                           const uint32_t (&b)[2]) {
  mma_bf16_m16n8k16(d, a, b);
}
#endif

// A pair of 16-bit elements as one word: element k in the lower half, zero
// where a pointer is null.
template <class H> SSPROP_DEVICE uint32_t pack_pair(const H *p0, const H *p1) {
  return (p0 ? raw_bits(*p0) : 0u) | (p1 ? raw_bits(*p1) : 0u) << 16;
}

// One word of a stage: f32 by a 4-byte cp.async (zero-filled where null;
// `any` is a valid address for the ignored source); a 16-bit pair by a 4-byte
// cp.async when both elements are adjacent and 4-byte aligned in global
// memory, else by two loads and a shared store.
template <class T, class Addr>
SSPROP_DEVICE void tc_copy_word(uint32_t *dst, const Addr &addr, int row, int k,
                                int kEnd, const T *any) {
  const T *p0 = k < kEnd ? addr(row, k) : nullptr;
  if constexpr (TensorCoreOps<T>::PER_WORD == 1) {
    cp_async4(dst, p0 ? p0 : any, p0 != nullptr);
  } else {
    const T *p1 = k + 1 < kEnd ? addr(row, k + 1) : nullptr;
    if (p0 && p1 == p0 + 1 && ((unsigned long long)p0 & 3) == 0)
      cp_async4(dst, p0, true);
    else
      *dst = pack_pair(p0, p1);
  }
}

// d += the warp's WM x WN tile over one stage: ldmatrix.x4 loads a 16-row A
// fragment (matrices: rows 0-7 | 8-15 x words 0-3 | 4-7 = a0..a3) or the B
// fragments of two 8-column tiles (rows 0-7 words 0-3, 4-7, then rows 8-15).
template <class T, int WM, int WN>
SSPROP_DEVICE void tc_warp_mma(const uint32_t (*As)[TC_ROW_WORDS],
                               const uint32_t (*Bs)[TC_ROW_WORDS],
                               float (&acc)[WM / 16][WN / 8][4]) {
  typedef TensorCoreOps<T> Ops;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int ks = 0; ks < TC_K_WORDS; ks += 8) {
    uint32_t a[WM / 16][4], b[WN / 8][2];
#pragma unroll
    for (int i = 0; i < WM / 16; ++i) {
      ldmatrix_x4(a[i], &As[i * 16 + lane % 16][ks + lane / 16 * 4]);
#pragma unroll
      for (int r = 0; r < 4; ++r)
        a[i][r] = Ops::operand(a[i][r]);
    }
#pragma unroll
    for (int j = 0; j < WN / 8; j += 2) {
      uint32_t r[4];
      ldmatrix_x4(r,
                  &Bs[j * 8 + lane / 16 * 8 + lane % 8][ks + lane / 8 % 2 * 4]);
      b[j][0] = Ops::operand(r[0]);
      b[j][1] = Ops::operand(r[1]);
      b[j + 1][0] = Ops::operand(r[2]);
      b[j + 1][1] = Ops::operand(r[3]);
    }
#pragma unroll
    for (int i = 0; i < WM / 16; ++i)
#pragma unroll
      for (int j = 0; j < WN / 8; ++j)
        mma_for(T(), acc[i][j], a[i], b[j]);
  }
}

// A BM x BN tile, warps of WM x WN, K in stages of BK elements (64 bytes)
// kept STAGES deep in flight with cp.async.
template <class T, int BM, int BN, int BK, int WM, int WN, int STAGES,
          int THREADS>
struct TensorCoreGemm {
  static_assert(BK == TC_K_WORDS * TensorCoreOps<T>::PER_WORD,
                "64-byte K steps");
  static_assert(WM % 16 == 0 && WN % 16 == 0, "whole ldmatrix.x4 fragments");
  static_assert((BM / WM) * (BN / WN) * 32 == THREADS,
                "one warp per warp tile");
  static_assert(STAGES >= 2, "a pipeline needs two stages");

  template <int ROWS, bool K_FASTEST, class Addr>
  SSPROP_DEVICE static void load(uint32_t (*tile)[TC_ROW_WORDS], int k0,
                                 int kEnd, const Addr &addr, const T *any) {
    for (int e = threadIdx.x; e < ROWS * TC_K_WORDS; e += THREADS) {
      int row, word;
      tile_coords<ROWS, TC_K_WORDS, K_FASTEST>(e, row, word);
      tc_copy_word(&tile[row][word], addr, row,
                   k0 + word * TensorCoreOps<T>::PER_WORD, kEnd, any);
    }
  }

  template <bool A_K_FASTEST, bool B_K_FASTEST, class AddrA, class AddrB,
            class Write>
  SSPROP_DEVICE static void run(int kBegin, int kEnd, const T *a,
                                const AddrA &addrA, const T *b,
                                const AddrB &addrB, const Write &write) {
    alignas(16) __shared__ uint32_t As[STAGES][BM][TC_ROW_WORDS];
    alignas(16) __shared__ uint32_t Bs[STAGES][BN][TC_ROW_WORDS];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int wm0 = warp / (BN / WN) * WM, wn0 = warp % (BN / WN) * WN;
    float acc[WM / 16][WN / 8][4] = {};
    const int tiles = kEnd > kBegin ? (kEnd - kBegin + BK - 1) / BK : 0;
    auto fill = [&](int tile) {
      const int stage = tile % STAGES, k0 = kBegin + tile * BK;
      load<BM, A_K_FASTEST>(As[stage], k0, kEnd, addrA, a);
      load<BN, B_K_FASTEST>(Bs[stage], k0, kEnd, addrB, b);
    };
    // One commit group per tile, empty ones included, so that "at most
    // STAGES - 2 groups pending" always means "tile t has landed".
#pragma unroll
    for (int t = 0; t < STAGES - 1; ++t) {
      if (t < tiles)
        fill(t);
      cp_async_commit();
    }
    for (int t = 0; t < tiles; ++t) {
      cp_async_wait<STAGES - 2>(); // this thread's copies of tile t landed
      // Everyone's have; and every warp is done with tile t - 1, whose stage
      // the fill below overwrites: one barrier per stage covers both.
      __syncthreads();
      if (t + STAGES - 1 < tiles)
        fill(t + STAGES - 1);
      cp_async_commit();
      tc_warp_mma<T, WM, WN>(As[t % STAGES] + wm0, Bs[t % STAGES] + wn0, acc);
    }
    cp_async_wait<0>();
    // Accumulator layout: c0, c1 on row lane / 4, c2, c3 eight rows below,
    // columns 2 * (lane % 4) + (r & 1).
#pragma unroll
    for (int i = 0; i < WM / 16; ++i)
#pragma unroll
      for (int j = 0; j < WN / 8; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r)
          write(wm0 + i * 16 + lane / 4 + r / 2 * 8,
                wn0 + j * 8 + lane % 4 * 2 + r % 2, acc[i][j][r]);
  }
};

} // namespace ssprop_rt

#endif // SSPROP_PRELUDE
