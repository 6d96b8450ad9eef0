//===- HostEmulationPtx.h - host twins of the inline PTX --------*- C++ -*-===//
//
// Included by HostEmulation.h. The prelude (lib/Codegen/Prelude.cuh) keeps all
// of its inline PTX in small wrappers, which it defines only under a CUDA
// compiler; the end of this file defines them for the host, each calling its
// twin here, named after the PTX instruction. The warp-wide ones
// (mma.sync, ldmatrix) follow the PTX ISA's fragment-to-thread tables exactly
// (groupID = laneid >> 2, threadID_in_group = laneid % 4), so a kernel that
// puts a fragment element in the wrong register computes a wrong result on
// the host as it would on the GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_HOSTEMULATIONPTX_H
#define SSPROP_TEST_CODEGEN_HOSTEMULATIONPTX_H

namespace ssprop::emu::ptx {

/// cvt.rna.tf32.f32: round to the 10-bit TF32 significand, to nearest with
/// ties away from zero; the result is an f32 bit pattern whose low 13 bits are
/// zero. NaN stays NaN (the canonical 0x7fffffff); a carry past the largest
/// finite value gives infinity.
inline std::uint32_t cvt_rna_tf32_f32(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return 0x7fffffffu;
  if ((bits & 0x7f800000u) == 0x7f800000u) // infinity
    return bits;
  return (bits + 0x1000u) & 0xffffe000u; // sign-magnitude: ties go away
}

namespace detail {
/// The exchange area of the warp-wide instructions: one row of words per
/// (warp, lane) of the block the calling OS thread runs.
constexpr int kExchangeWords = 8;
inline std::uint32_t (&exchangeSlots())[32][32][kExchangeWords] {
  static thread_local std::uint32_t slots[32][32][kExchangeWords];
  return slots;
}

/// A warp-collective exchange point: every lane deposits `words`, the warp
/// meets, `compute` reads all 32 lanes' deposits, the warp meets again so
/// that no lane refills its slot before every lane has read it.
template <int N, class F>
inline void warpExchange(const std::uint32_t (&words)[N], F compute) {
  static_assert(N <= kExchangeWords, "exchange slot too small");
  const ThreadCtx &ctx = current();
  auto &warp = exchangeSlots()[ctx.warp];
  std::memcpy(warp[ctx.lane], words, sizeof(words));
  ::ssprop::emu::detail::warpOp(::ssprop::emu::detail::WarpOp::SyncWarp,
                                0xffffffffu, 0, 0, 32, __FILE__, __LINE__);
  compute(warp, ctx.lane);
  ::ssprop::emu::detail::warpOp(::ssprop::emu::detail::WarpOp::SyncWarp,
                                0xffffffffu, 0, 0, 32, __FILE__, __LINE__);
}

inline float tf32Operand(std::uint32_t bits) {
  // The tensor core reads only the TF32 bits of an operand register.
  float value;
  bits &= 0xffffe000u;
  std::memcpy(&value, &bits, 4);
  return value;
}
inline float f16Operand(std::uint32_t word, int half) {
  return ::ssprop::emu::detail::f16BitsToF32(
      static_cast<unsigned short>(word >> (16 * half)));
}
inline float bf16Operand(std::uint32_t word, int half) {
  return ::ssprop::emu::detail::bf16BitsToF32(
      static_cast<unsigned short>(word >> (16 * half)));
}

/// d[i] += sum_k A[row_i][k] * B[k][col_i] for the accumulator layout shared
/// by every m16n8 shape: c0, c1 on row groupID, c2, c3 on groupID + 8, column
/// threadID_in_group * 2 + (i & 1). Products are exact and summed in double,
/// then rounded once to f32 (the tensor core's own summation order and
/// truncation are unspecified; they differ from this by f32 rounding only).
template <int K>
inline void accumulate(float (&d)[4], const float (&a)[16][K],
                       const float (&b)[K][8], unsigned lane) {
  const unsigned group = lane >> 2, inGroup = lane % 4;
  for (int i = 0; i < 4; ++i) {
    const unsigned row = group + (i >= 2 ? 8 : 0), col = inGroup * 2 + (i & 1);
    double sum = d[i];
    for (int k = 0; k < K; ++k)
      sum += static_cast<double>(a[row][k]) * b[k][col];
    d[i] = static_cast<float>(sum);
  }
}

/// mma.m16n8k16 with 16-bit operands: A in four f16x2/bf16x2 registers, B in
/// two; `toFloat(word, half)` unpacks the lower (0) or upper (1) element.
template <class ToFloat>
inline void mmaM16n8k16(float (&d)[4], const std::uint32_t (&a)[4],
                        const std::uint32_t (&b)[2], ToFloat toFloat) {
  const std::uint32_t mine[6] = {a[0], a[1], a[2], a[3], b[0], b[1]};
  warpExchange(
      mine, [&](const std::uint32_t(*lanes)[kExchangeWords], unsigned self) {
        float am[16][16], bm[16][8];
        for (unsigned lane = 0; lane < 32; ++lane) {
          const unsigned group = lane >> 2, inGroup = lane % 4;
          for (int i = 0; i < 8; ++i) { // a_i: register i / 2, half i % 2
            const unsigned row = group + ((i < 2 || (i >= 4 && i < 6)) ? 0 : 8);
            const unsigned col = inGroup * 2 + (i & 1) + (i >= 4 ? 8 : 0);
            am[row][col] = toFloat(lanes[lane][i / 2], i % 2);
          }
          for (int i = 0; i < 4; ++i) { // b_i: register 4 + i / 2, half i % 2
            const unsigned row = inGroup * 2 + (i & 1) + (i >= 2 ? 8 : 0);
            bm[row][group] = toFloat(lanes[lane][4 + i / 2], i % 2);
          }
        }
        accumulate(d, am, bm, self);
      });
}
} // namespace detail

/// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 with d as c.
inline void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                             const std::uint32_t (&b)[2]) {
  const std::uint32_t mine[6] = {a[0], a[1], a[2], a[3], b[0], b[1]};
  detail::warpExchange(
      mine,
      [&](const std::uint32_t(*lanes)[detail::kExchangeWords], unsigned self) {
        float am[16][8], bm[8][8];
        for (unsigned lane = 0; lane < 32; ++lane) {
          const unsigned group = lane >> 2, inGroup = lane % 4;
          for (int i = 0; i < 4; ++i) { // a0, a2: row groupID; a2, a3: col + 4
            const unsigned row = group + (i % 2 ? 8 : 0);
            const unsigned col = inGroup + (i >= 2 ? 4 : 0);
            am[row][col] = detail::tf32Operand(lanes[lane][i]);
          }
          for (int i = 0; i < 2; ++i) // b0: row threadID_in_group, b1: + 4
            bm[inGroup + 4 * i][group] =
                detail::tf32Operand(lanes[lane][4 + i]);
        }
        detail::accumulate(d, am, bm, self);
      });
}

/// mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 with d as c.
inline void mma_m16n8k16_f16(float (&d)[4], const std::uint32_t (&a)[4],
                             const std::uint32_t (&b)[2]) {
  detail::mmaM16n8k16(d, a, b, detail::f16Operand);
}

/// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 with d as c.
inline void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4],
                              const std::uint32_t (&b)[2]) {
  detail::mmaM16n8k16(d, a, b, detail::bf16Operand);
}

/// ldmatrix.sync.aligned.m8n8.x4.shared.b16: lane 8 * j + r gives the
/// address of row r (16 bytes) of matrix j; lane l receives, in register j,
/// the 32-bit word l % 4 of row l / 4 of matrix j.
inline void ldmatrix_m8n8_x4(std::uint32_t (&regs)[4], const void *row) {
  std::uint32_t mine[2];
  std::memcpy(mine, &row, sizeof(row));
  detail::warpExchange(
      mine,
      [&](const std::uint32_t(*lanes)[detail::kExchangeWords], unsigned self) {
        for (int j = 0; j < 4; ++j) {
          const char *source;
          std::memcpy(&source, lanes[8 * j + self / 4], sizeof(source));
          std::memcpy(&regs[j], source + 4 * (self % 4), 4);
        }
      });
}

namespace detail {
/// cp.async copies in flight, per thread of the block: the copies of each
/// committed group land when a cp.async.wait_group lets them, never earlier,
/// so a kernel that reads a stage before waiting for it reads stale data here
/// too. Keyed by the block run that issued them: a block's leftovers never
/// land in the next block's shared memory.
struct AsyncCopy {
  void *dst;
  int size;
  unsigned char bytes[16];
};
struct AsyncQueue {
  std::uint64_t block = ~0ull;
  std::vector<AsyncCopy> uncommitted;
  std::vector<std::vector<AsyncCopy>> groups; // oldest first
};
inline AsyncQueue &asyncQueue() {
  static thread_local AsyncQueue queues[1024];
  AsyncQueue &queue = queues[current().linear];
  const std::uint64_t block = stats().blocks;
  if (queue.block != block)
    queue = AsyncQueue{block, {}, {}};
  return queue;
}
} // namespace detail

/// cp.async.ca.shared.global [dst], [src], cpSize, srcSize: reads srcSize
/// bytes (at issue, as the source must not change until the copy completes)
/// and zero-fills the rest up to cpSize.
inline void cp_async(void *dst, const void *src, int cpSize, int srcSize) {
  assert(cpSize <= 16 && srcSize <= cpSize &&
         "cp.async copies 4, 8 or 16 bytes");
  detail::AsyncCopy copy{dst, cpSize, {}};
  std::memcpy(copy.bytes, src, srcSize);
  detail::asyncQueue().uncommitted.push_back(copy);
}

/// cp.async.commit_group: the uncommitted copies become one group.
inline void cp_async_commit_group() {
  detail::AsyncQueue &queue = detail::asyncQueue();
  queue.groups.push_back(std::move(queue.uncommitted));
  queue.uncommitted.clear();
}

/// cp.async.wait_group n: all but the newest n groups have landed.
inline void cp_async_wait_group(int pending) {
  detail::AsyncQueue &queue = detail::asyncQueue();
  while (static_cast<int>(queue.groups.size()) > pending) {
    for (const detail::AsyncCopy &copy : queue.groups.front())
      std::memcpy(copy.dst, copy.bytes, copy.size);
    queue.groups.erase(queue.groups.begin());
  }
}

} // namespace ssprop::emu::ptx

//===----------------------------------------------------------------------===//
// The prelude's inline-PTX wrappers
//===----------------------------------------------------------------------===//

// Declared ahead of the prelude (this header is force-included), which leaves
// its own definitions out without __CUDACC__.
namespace ssprop_rt {
inline std::uint32_t to_tf32(float v) {
  return ::ssprop::emu::ptx::cvt_rna_tf32_f32(v);
}
inline void mma_tf32_m16n8k8(float (&d)[4], const std::uint32_t (&a)[4],
                             const std::uint32_t (&b)[2]) {
  ::ssprop::emu::ptx::mma_m16n8k8_tf32(d, a, b);
}
inline void mma_f16_m16n8k16(float (&d)[4], const std::uint32_t (&a)[4],
                             const std::uint32_t (&b)[2]) {
  ::ssprop::emu::ptx::mma_m16n8k16_f16(d, a, b);
}
inline void mma_bf16_m16n8k16(float (&d)[4], const std::uint32_t (&a)[4],
                              const std::uint32_t (&b)[2]) {
  ::ssprop::emu::ptx::mma_m16n8k16_bf16(d, a, b);
}
inline void ldmatrix_x4(std::uint32_t (&r)[4], const std::uint32_t *row) {
  ::ssprop::emu::ptx::ldmatrix_m8n8_x4(r, row);
}
inline void cp_async4(std::uint32_t *dst, const void *src, bool valid) {
  ::ssprop::emu::ptx::cp_async(dst, src, 4, valid ? 4 : 0);
}
inline void cp_async_commit() { ::ssprop::emu::ptx::cp_async_commit_group(); }
template <int PENDING> inline void cp_async_wait() {
  ::ssprop::emu::ptx::cp_async_wait_group(PENDING);
}
} // namespace ssprop_rt

#endif // SSPROP_TEST_CODEGEN_HOSTEMULATIONPTX_H
