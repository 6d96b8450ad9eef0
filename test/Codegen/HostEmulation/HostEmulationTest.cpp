//===- HostEmulationTest.cpp - Tests of the CUDA host emulation -----------===//
//
// Two builds of this file:
//  * SSPROP_EMU_TEST_KERNEL_MODULE: a kernel module, compiled the way an
//    emitted kernel source is (HostEmulation.h force-included, linked against
//    SSPropHostEmulation), which the test executable dlopens.
//  * otherwise: the test executable. A tiny self-contained harness (no
//    GoogleTest dependency); it ends with "N passed, N failed".
//
// The kernels are CUDA-style code using the header's built-ins.
//
//===----------------------------------------------------------------------===//

#ifdef SSPROP_EMU_TEST_KERNEL_MODULE
//===----------------------------------------------------------------------===//
// Kernel module (as emitted by a code generator)
//===----------------------------------------------------------------------===//

extern "C" __global__ void __launch_bounds__(256)
    moduleSaxpy(int n, float a, const float *__restrict__ x,
                float *__restrict__ y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a * x[i] + y[i];
}

/// Sum of each block's values: warp shuffles, then shared memory.
extern "C" __global__ void moduleBlockSum(const float *__restrict__ in,
                                          float *__restrict__ out) {
  __shared__ float warpSums[32];
  unsigned t = threadIdx.x;
  float v = in[blockIdx.x * blockDim.x + t];
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, off);
  if (t % warpSize == 0)
    warpSums[t / warpSize] = v;
  __syncthreads();
  if (t < 32) {
    v = t < blockDim.x / warpSize ? warpSums[t] : 0.0f;
    for (int off = 16; off > 0; off >>= 1)
      v += __shfl_xor_sync(0xffffffffu, v, off);
    if (t == 0)
      out[blockIdx.x] = v;
  }
}

// What a test appends to a kernel source it compiles as host C++.
SSPROP_EMU_HOST_ENTRY(moduleSaxpy)
SSPROP_EMU_HOST_ENTRY(moduleBlockSum)

/// Launches from inside the module, through the shared library.
extern "C" void moduleLaunchBlockSum(const float *in, float *out, int blocks,
                                     int threads) {
  void *params[] = {&in, &out};
  ssprop::emu::launchKernel(moduleBlockSum_host, dim3(blocks), dim3(threads),
                            params);
}

#else
//===----------------------------------------------------------------------===//
// Test executable
//===----------------------------------------------------------------------===//

#include "HostEmulation.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

//===--- harness ---------------------------------------------------------===//

struct TestCase {
  const char *name;
  void (*fn)();
};
std::vector<TestCase> &registry() {
  static std::vector<TestCase> r;
  return r;
}
struct Registrar {
  Registrar(const char *name, void (*fn)()) { registry().push_back({name, fn}); }
};
int gCheckFailures = 0;

void reportFailure(const char *file, int line, const std::string &what) {
  if (++gCheckFailures <= 20)
    std::cout << "    " << file << ":" << line << ": check failed: " << what
              << "\n";
}

template <class T> std::string show(const T &v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, unsigned short> || std::is_same_v<T, unsigned> ||
                std::is_same_v<T, std::uint64_t>)
    os << "0x" << std::hex << v;
  else
    os << v;
  return os.str();
}

#define TEST(suite, name)                                                      \
  void suite##_##name();                                                       \
  Registrar suite##_##name##_registrar(#suite "." #name, suite##_##name);      \
  void suite##_##name()

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      reportFailure(__FILE__, __LINE__, #cond);                                \
  } while (0)

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    auto check_a_ = (a);                                                       \
    auto check_b_ = (b);                                                       \
    if (!(check_a_ == check_b_))                                               \
      reportFailure(__FILE__, __LINE__,                                        \
                    std::string(#a " == " #b " (") + show(check_a_) + " vs " + \
                        show(check_b_) + ")");                                 \
  } while (0)

/// Runs `stmt`, expects an exception of type E whose what() contains each of
/// the given substrings.
#define CHECK_THROWS(E, stmt, ...)                                             \
  do {                                                                         \
    bool check_thrown_ = false;                                                \
    try {                                                                      \
      stmt;                                                                    \
    } catch (const E &check_e_) {                                              \
      check_thrown_ = true;                                                    \
      std::string check_msg_ = check_e_.what();                                \
      for (const char *check_s_ : {__VA_ARGS__})                               \
        if (check_msg_.find(check_s_) == std::string::npos)                    \
          reportFailure(__FILE__, __LINE__,                                    \
                        std::string("message lacks '") + check_s_ +            \
                            "': " + check_msg_);                               \
    } catch (const std::exception &check_e_) {                                 \
      check_thrown_ = true;                                                    \
      reportFailure(__FILE__, __LINE__,                                        \
                    std::string("unexpected exception: ") + check_e_.what());  \
    }                                                                          \
    if (!check_thrown_)                                                        \
      reportFailure(__FILE__, __LINE__, "no " #E " thrown by " #stmt);         \
  } while (0)

using ssprop::emu::launch;

//===--- built-in variables ------------------------------------------------===//

struct Seen {
  uint3 tid, bid;
  dim3 bdim, gdim;
  int lane0Linear; // linear id of lane 0 of the thread's warp (via shuffle)
  unsigned ballot; // __ballot_sync(full, 1)
};

__global__ void recordIndices(Seen *out) {
  unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
  unsigned linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  Seen &s = out[block * nthreads + linear];
  s.tid = threadIdx;
  s.bid = blockIdx;
  s.bdim = blockDim;
  s.gdim = gridDim;
  s.lane0Linear = __shfl_sync(0xffffffffu, static_cast<int>(linear), 0);
  s.ballot = __ballot_sync(0xffffffffu, 1);
}

TEST(Indices, Linearisation3D) {
  dim3 grid(2, 3, 2), block(8, 5, 2); // 80 threads: warps 0,1 full, warp 2 has 16 lanes
  unsigned nthreads = 80, nblocks = 12;
  std::vector<Seen> out(nthreads * nblocks);
  launch<recordIndices>(grid, block, out.data());
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 3; ++by)
      for (unsigned bx = 0; bx < 2; ++bx)
        for (unsigned tz = 0; tz < 2; ++tz)
          for (unsigned ty = 0; ty < 5; ++ty)
            for (unsigned tx = 0; tx < 8; ++tx) {
              unsigned b = bx + 2 * (by + 3 * bz);
              unsigned l = tx + 8 * (ty + 5 * tz);
              const Seen &s = out[b * nthreads + l];
              CHECK(s.tid.x == tx && s.tid.y == ty && s.tid.z == tz);
              CHECK(s.bid.x == bx && s.bid.y == by && s.bid.z == bz);
              CHECK(s.bdim.x == 8 && s.bdim.y == 5 && s.bdim.z == 2);
              CHECK(s.gdim.x == 2 && s.gdim.y == 3 && s.gdim.z == 2);
              CHECK_EQ(s.lane0Linear, static_cast<int>(l / 32 * 32));
              CHECK_EQ(s.ballot, l < 64 ? 0xffffffffu : 0x0000ffffu);
            }
}

TEST(Indices, HostContextOutsideKernels) {
  CHECK_EQ(threadIdx.x, 0u);
  CHECK_EQ(blockDim.x, 1u);
  CHECK_EQ(gridDim.z, 1u);
  CHECK_EQ(warpSize, 32);
  dim3 d;
  CHECK(d.x == 1 && d.y == 1 && d.z == 1);
  dim3 e(7);
  CHECK(e.x == 7 && e.y == 1 && e.z == 1);
}

//===--- __syncthreads -----------------------------------------------------===//

__global__ void treeReduce(const int *in, int *out) {
  __shared__ int s[256];
  unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 256 + t];
  for (unsigned stride = 128; stride > 0; stride >>= 1) {
    __syncthreads();
    if (t < stride)
      s[t] += s[t + stride];
  }
  if (t == 0)
    out[blockIdx.x] = s[0];
}

TEST(Barrier, SharedMemoryTreeReduction) {
  const int blocks = 5;
  std::vector<int> in(256 * blocks), out(blocks, -1);
  std::mt19937 rng(42);
  for (int &v : in)
    v = static_cast<int>(rng() % 2001) - 1000;
  launch<treeReduce>(dim3(blocks), dim3(256), in.data(), out.data());
  for (int b = 0; b < blocks; ++b) {
    int ref = 0;
    for (int i = 0; i < 256; ++i)
      ref += in[b * 256 + i];
    CHECK_EQ(out[b], ref);
  }
}

/// Each thread publishes a value, then reads its neighbour's.
template <bool WithBarrier> __global__ void rotate(int *out, int round) {
  __shared__ int buf[128];
  unsigned t = threadIdx.x;
  buf[t] = static_cast<int>(t) * 7 + round;
  if (WithBarrier)
    __syncthreads();
  out[t] = buf[(t + 1) % 128];
}

TEST(Barrier, ProducerConsumerNeedsTheBarrier) {
  std::vector<int> out(128);
  for (int round = 0; round < 3; ++round) {
    launch<rotate<true>>(dim3(1), dim3(128), out.data(), round);
    for (unsigned t = 0; t < 128; ++t)
      CHECK_EQ(out[t], static_cast<int>((t + 1) % 128) * 7 + round);
  }
  // Without the barrier the emulated threads run one after another, so a
  // thread reads its neighbour's slot before the neighbour wrote it: the
  // emulation really does serialise unsynchronised threads.
  launch<rotate<false>>(dim3(1), dim3(128), out.data(), 100);
  int wrong = 0;
  for (unsigned t = 0; t < 128; ++t)
    wrong += out[t] != static_cast<int>((t + 1) % 128) * 7 + 100;
  CHECK(wrong > 0);
}

/// Jacobi smoothing in shared memory, several barriers per iteration.
__global__ void smooth(const float *in, float *out, int iters) {
  __shared__ float a[66], b[66];
  unsigned t = threadIdx.x + 1;
  if (threadIdx.x == 0) {
    a[0] = b[0] = 0.0f;
    a[65] = b[65] = 0.0f;
  }
  a[t] = in[threadIdx.x];
  __syncthreads();
  for (int i = 0; i < iters; ++i) {
    b[t] = 0.25f * a[t - 1] + 0.5f * a[t] + 0.25f * a[t + 1];
    __syncthreads();
    a[t] = b[t];
    __syncthreads();
  }
  out[threadIdx.x] = a[t];
}

TEST(Barrier, IterativeStencil) {
  std::vector<float> in(64), out(64), ref(66, 0.0f), tmp(66, 0.0f);
  for (int i = 0; i < 64; ++i)
    in[i] = static_cast<float>((i * 37) % 11);
  for (int i = 0; i < 64; ++i)
    ref[i + 1] = in[i];
  for (int it = 0; it < 20; ++it) {
    for (int i = 1; i <= 64; ++i)
      tmp[i] = 0.25f * ref[i - 1] + 0.5f * ref[i] + 0.25f * ref[i + 1];
    for (int i = 1; i <= 64; ++i)
      ref[i] = tmp[i];
  }
  launch<smooth>(dim3(1), dim3(64), in.data(), out.data(), 20);
  for (int i = 0; i < 64; ++i)
    CHECK_EQ(out[i], ref[i + 1]);
}

__global__ void earlyExit(int *out) {
  __shared__ int s[96];
  unsigned t = threadIdx.x;
  s[t] = static_cast<int>(t);
  __syncthreads();
  // Return while others already wait at the next barrier (thread 94 runs last
  // and returns): returned threads count as arrived, so it opens.
  if (t % 3 == 1)
    return;
  s[t] += 1000;
  __syncthreads();
  out[blockIdx.x * 96 + t] = s[(t + 1) % 96];
}

TEST(Barrier, ReturnedThreadsCountAsArrived) {
  std::vector<int> out(2 * 96, -1);
  launch<earlyExit>(dim3(2), dim3(96), out.data());
  for (unsigned i = 0; i < 2 * 96; ++i) {
    unsigned t = i % 96, n = (t + 1) % 96;
    CHECK_EQ(out[i], t % 3 == 1 ? -1 : static_cast<int>(n) + (n % 3 == 1 ? 0 : 1000));
  }
}

__global__ void syncVariants(int *out) {
  unsigned t = threadIdx.x;
  out[0 * 100 + t] = __syncthreads_count(t % 4 == 0);
  out[1 * 100 + t] = __syncthreads_and(t < 100);
  out[2 * 100 + t] = __syncthreads_and(t != 17);
  out[3 * 100 + t] = __syncthreads_or(t == 63);
  out[4 * 100 + t] = __syncthreads_or(0);
}

TEST(Barrier, CountAndOr) {
  std::vector<int> out(500, -1);
  launch<syncVariants>(dim3(1), dim3(100), out.data());
  for (int t = 0; t < 100; ++t) {
    CHECK_EQ(out[t], 25);
    CHECK_EQ(out[100 + t], 1);
    CHECK_EQ(out[200 + t], 0);
    CHECK_EQ(out[300 + t], 1);
    CHECK_EQ(out[400 + t], 0);
  }
}

//===--- warp collectives --------------------------------------------------===//

__global__ void butterfly(const float *in, float *out, double *outD,
                          long long *outL) {
  unsigned t = threadIdx.x;
  float v = in[t];
  for (int m = 16; m >= 1; m >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, m);
  out[t] = v;
  double d = static_cast<double>(t) + 0.5;
  for (int m = 16; m >= 1; m >>= 1)
    d += __shfl_xor_sync(0xffffffffu, d, m);
  outD[t] = d;
  long long l = (1LL << 40) * static_cast<long long>(t % 32);
  for (int m = 16; m >= 1; m >>= 1)
    l += __shfl_xor_sync(0xffffffffu, l, m);
  outL[t] = l;
}

TEST(Warp, XorButterflySum) {
  std::vector<float> in(64), out(64);
  std::vector<double> outD(64);
  std::vector<long long> outL(64);
  for (int i = 0; i < 64; ++i)
    in[i] = static_cast<float>(i);
  launch<butterfly>(dim3(1), dim3(64), in.data(), out.data(), outD.data(),
                    outL.data());
  for (int i = 0; i < 64; ++i) {
    CHECK_EQ(out[i], i < 32 ? 496.0f : 1520.0f); // sum 0..31, sum 32..63
    CHECK_EQ(outD[i], i < 32 ? 512.0 : 1536.0);
    CHECK_EQ(outL[i], (1LL << 40) * 496);
  }
}

constexpr int kShflCases = 12;

__global__ void shuffles(int *out) {
  int lane = static_cast<int>(threadIdx.x % 32);
  int v = 100 + lane;
  int *o = out + threadIdx.x * kShflCases;
  o[0] = __shfl_down_sync(0xffffffffu, v, 3);       // lanes 29..31 keep own
  o[1] = __shfl_up_sync(0xffffffffu, v, 5);         // lanes 0..4 keep own
  o[2] = __shfl_sync(0xffffffffu, v, 7);            // broadcast
  o[3] = __shfl_sync(0xffffffffu, v, -1);           // lane 31 (mod 32)
  o[4] = __shfl_sync(0xffffffffu, v, 3, 16);        // lane 3 of each half
  o[5] = __shfl_down_sync(0xffffffffu, v, 4, 16);   // clamp at 15 / 31
  o[6] = __shfl_up_sync(0xffffffffu, v, 4, 16);     // clamp at 0 / 16
  o[7] = __shfl_xor_sync(0xffffffffu, v, 1, 16);
  o[8] = __shfl_xor_sync(0xffffffffu, v, 16, 16);   // later segment: own value
  o[9] = __shfl_sync(0xffffffffu, v, lane + 17, 8); // (lane+17) % 8 in the octet
  float f = static_cast<float>(lane) * 0.5f;
  o[10] = static_cast<int>(__shfl_down_sync(0xffffffffu, f, 1) * 2.0f);
  unsigned u = 0x80000000u | static_cast<unsigned>(lane);
  o[11] = static_cast<int>(__shfl_up_sync(0xffffffffu, u, 1) & 0xff);
}

TEST(Warp, ShuffleSemantics) {
  std::vector<int> out(64 * kShflCases);
  launch<shuffles>(dim3(1), dim3(64), out.data());
  for (int t = 0; t < 64; ++t) {
    int l = t % 32;
    const int *o = &out[t * kShflCases];
    CHECK_EQ(o[0], 100 + (l + 3 < 32 ? l + 3 : l));
    CHECK_EQ(o[1], 100 + (l >= 5 ? l - 5 : l));
    CHECK_EQ(o[2], 107);
    CHECK_EQ(o[3], 131);
    CHECK_EQ(o[4], 100 + (l & 16) + 3);
    CHECK_EQ(o[5], 100 + ((l % 16) + 4 < 16 ? l + 4 : l));
    CHECK_EQ(o[6], 100 + ((l % 16) >= 4 ? l - 4 : l));
    CHECK_EQ(o[7], 100 + (l ^ 1));
    // PTX bfly with width 16: a lane may read an earlier segment, not a later.
    CHECK_EQ(o[8], 100 + (l < 16 ? l : l ^ 16));
    CHECK_EQ(o[9], 100 + (l & ~7) + ((l + 17) & 7));
    CHECK_EQ(o[10], l < 31 ? l + 1 : l);
    CHECK_EQ(o[11], l > 0 ? l - 1 : l);
  }
}

__global__ void partialMaskShuffle(int *out) {
  int lane = static_cast<int>(threadIdx.x % 32);
  int v = lane * 10;
  if (lane < 16) // lanes 0..15 only
    v = __shfl_down_sync(0x0000ffffu, v, 1);
  else // lanes 16..31, a different collective
    v = __shfl_xor_sync(0xffff0000u, v, 1);
  out[threadIdx.x] = v;
}

TEST(Warp, DivergentHalvesWithOwnMasks) {
  std::vector<int> out(32);
  launch<partialMaskShuffle>(dim3(1), dim3(32), out.data());
  for (int l = 0; l < 32; ++l) {
    int want = l < 16 ? (l < 15 ? (l + 1) * 10 : l * 10) : (l ^ 1) * 10;
    CHECK_EQ(out[l], want);
  }
}

__global__ void votes(unsigned *out) {
  unsigned t = threadIdx.x;
  unsigned lane = t % 32;
  unsigned *o = out + t * 8;
  o[0] = __ballot_sync(0xffffffffu, lane % 3 == 0);
  o[1] = static_cast<unsigned>(__any_sync(0xffffffffu, lane == 31));
  o[2] = static_cast<unsigned>(__all_sync(0xffffffffu, lane < 40));
  o[3] = static_cast<unsigned>(__all_sync(0xffffffffu, lane != 5));
  o[4] = static_cast<unsigned>(__any_sync(0xffffffffu, 0));
  o[5] = __activemask();
  o[6] = __match_any_sync(0xffffffffu, lane / 4);
  o[7] = __reduce_add_sync(0xffffffffu, lane);
  __syncwarp();
}

TEST(Warp, BallotVotesMatchReduce) {
  // 40 threads: warp 1 has lanes 0..7 only.
  std::vector<unsigned> out(40 * 8);
  launch<votes>(dim3(1), dim3(40), out.data());
  for (unsigned t = 0; t < 40; ++t) {
    const unsigned *o = &out[t * 8];
    bool full = t < 32;
    unsigned liveMask = full ? 0xffffffffu : 0xffu;
    CHECK_EQ(o[0], 0x49249249u & liveMask);
    CHECK_EQ(o[1], full ? 1u : 0u);
    CHECK_EQ(o[2], 1u);
    CHECK_EQ(o[3], 0u); // lane 5 exists in both warps
    CHECK_EQ(o[4], 0u);
    CHECK_EQ(o[5], liveMask);
    CHECK_EQ(o[6], (0xfu << (t % 32 / 4 * 4)) & liveMask);
    CHECK_EQ(o[7], full ? 496u : 28u);
  }
}

__global__ void laneReturnsLate(unsigned *out) {
  unsigned lane = threadIdx.x % 32;
  if (lane == 31) // runs last in its warp, after lanes 0..30 wait below
    return;
  out[threadIdx.x] = __ballot_sync(0xffffffffu, lane % 2 == 0);
}

TEST(Warp, ReturnedLanesLeaveTheCollective) {
  // Strictly, CUDA leaves a mask naming an exited lane undefined; the
  // emulation drops exited lanes instead of hanging.
  std::vector<unsigned> out(64, 0);
  launch<laneReturnsLate>(dim3(1), dim3(64), out.data());
  for (unsigned t = 0; t < 64; ++t)
    CHECK_EQ(out[t], t % 32 == 31 ? 0u : 0x55555555u);
}

//===--- atomics -----------------------------------------------------------===//

struct Counters {
  int count;
  float fsum;
  double dsum;
  unsigned long long ullsum;
  int imax, imin;
  unsigned umax, umin;
  unsigned wrap;
  int casTotal;
  int exch;
};

__global__ void atomics(Counters *c) {
  int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(&c->count, 1);
  atomicAdd(&c->fsum, 0.5f);
  atomicAdd(&c->dsum, 0.25);
  atomicAdd(&c->ullsum, 1ULL << 33);
  atomicMax(&c->imax, (g * 7919) % 1000 - 500);
  atomicMin(&c->imin, (g * 7919) % 1000 - 500);
  atomicMax(&c->umax, static_cast<unsigned>(g) * 3u);
  atomicMin(&c->umin, static_cast<unsigned>(g) + 5u);
  atomicInc(&c->wrap, 9u); // counts 0..9, wraps to 0
  // CAS loop, with a barrier in between to interleave threads.
  int old = c->casTotal;
  __syncthreads();
  int assumed;
  do {
    assumed = old;
    old = atomicCAS(&c->casTotal, assumed, assumed + g);
  } while (old != assumed);
  atomicExch(&c->exch, g);
}

TEST(Atomics, AcrossThreadsAndBlocks) {
  Counters c{0, 0.0f, 0.0, 0, INT_MIN, INT_MAX, 0, UINT_MAX, 0, 0, -1};
  const int blocks = 6, threads = 160, n = blocks * threads;
  launch<atomics>(dim3(blocks), dim3(threads), &c);
  CHECK_EQ(c.count, n);
  CHECK_EQ(c.fsum, 0.5f * n);
  CHECK_EQ(c.dsum, 0.25 * n);
  CHECK_EQ(c.ullsum, (1ULL << 33) * n);
  int mx = INT_MIN, mn = INT_MAX;
  for (int g = 0; g < n; ++g) {
    mx = std::max(mx, (g * 7919) % 1000 - 500);
    mn = std::min(mn, (g * 7919) % 1000 - 500);
  }
  CHECK_EQ(c.imax, mx);
  CHECK_EQ(c.imin, mn);
  CHECK_EQ(c.umax, static_cast<unsigned>(n - 1) * 3u);
  CHECK_EQ(c.umin, 5u);
  CHECK_EQ(c.wrap, static_cast<unsigned>(n % 10));
  CHECK_EQ(c.casTotal, n * (n - 1) / 2);
  CHECK(c.exch >= 0 && c.exch < n);
}

TEST(Atomics, ReturnOldValues) {
  int i = 5;
  CHECK_EQ(atomicAdd(&i, 3), 5);
  CHECK_EQ(atomicExch(&i, 42), 8);
  CHECK_EQ(atomicCAS(&i, 41, 0), 42);
  CHECK_EQ(i, 42);
  CHECK_EQ(atomicCAS(&i, 42, 1), 42);
  CHECK_EQ(i, 1);
  unsigned u = 0;
  CHECK_EQ(atomicDec(&u, 3u), 0u);
  CHECK_EQ(u, 3u);
  unsigned long long ull = 7;
  CHECK_EQ(atomicCAS(&ull, 7ULL, 9ULL), 7ULL);
  CHECK_EQ(ull, 9ULL);
}

//===--- shared memory across blocks -----------------------------------------===//

__global__ void sharedPerBlock(int *counts, std::uintptr_t *addresses) {
  __shared__ int s;
  if (threadIdx.x == 0)
    s = 0;
  __syncthreads();
  atomicAdd(&s, static_cast<int>(blockIdx.x) + 1);
  __syncthreads();
  if (threadIdx.x == 0) {
    counts[blockIdx.x] = s;
    addresses[blockIdx.x] = reinterpret_cast<std::uintptr_t>(&s);
  }
}

TEST(Shared, ReusedAcrossSequentialBlocks) {
  std::vector<int> counts(7);
  std::vector<std::uintptr_t> addresses(7);
  launch<sharedPerBlock>(dim3(7), dim3(128), counts.data(), addresses.data());
  for (int b = 0; b < 7; ++b) {
    CHECK_EQ(counts[b], 128 * (b + 1));
    CHECK(addresses[b] == addresses[0]); // one static object, block after block
  }
}

//===--- matrix multiply ---------------------------------------------------===//

constexpr int TILE = 16;

__global__ void matmulTiled(const float *__restrict__ A,
                            const float *__restrict__ B, float *__restrict__ C,
                            int M, int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = static_cast<int>(blockIdx.y * TILE + threadIdx.y);
  int col = static_cast<int>(blockIdx.x * TILE + threadIdx.x);
  float acc = 0.0f;
  for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
    int ka = t * TILE + static_cast<int>(threadIdx.x);
    int kb = t * TILE + static_cast<int>(threadIdx.y);
    As[threadIdx.y][threadIdx.x] = (row < M && ka < K) ? __ldg(&A[row * K + ka]) : 0.0f;
    Bs[threadIdx.y][threadIdx.x] = (kb < K && col < N) ? __ldg(&B[kb * N + col]) : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k)
      acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  if (row < M && col < N)
    C[row * N + col] = acc;
}

TEST(Simt, TiledMatmulMatchesPlainLoop) {
  const int M = 50, N = 37, K = 45;
  std::vector<float> A(M * K), B(K * N), C(M * N, -1.0f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float &v : A)
    v = dist(rng);
  for (float &v : B)
    v = dist(rng);
  dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
  launch<matmulTiled>(grid, dim3(TILE, TILE), A.data(), B.data(), C.data(), M,
                      N, K);
  int bad = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float ref = 0.0f;
      for (int k = 0; k < K; ++k)
        ref += A[i * K + k] * B[k * N + j];
      if (std::fabs(C[i * N + j] - ref) > 1e-5f * (1.0f + std::fabs(ref)))
        ++bad;
    }
  CHECK_EQ(bad, 0);
}

//===--- half / bfloat16 -----------------------------------------------------===//

unsigned short h(float f) { return __half_as_ushort(__float2half_rn(f)); }
unsigned short bf(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

TEST(Half, KnownBitPatterns) {
  CHECK_EQ(h(1.0f), 0x3c00);
  CHECK_EQ(h(-2.5f), 0xc100);
  CHECK_EQ(h(0.0f), 0x0000);
  CHECK_EQ(h(-0.0f), 0x8000);
  CHECK_EQ(h(65504.0f), 0x7bff);
  CHECK_EQ(h(65519.0f), 0x7bff);
  CHECK_EQ(h(65520.0f), 0x7c00); // rounds to inf
  CHECK_EQ(h(-65520.0f), 0xfc00);
  CHECK_EQ(h(INFINITY), 0x7c00);
  CHECK_EQ(h(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
  CHECK_EQ(h(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  CHECK_EQ(h(std::ldexp(1.0f, -25)), 0x0000); // tie -> even (zero)
  CHECK_EQ(h(-std::ldexp(1.0f, -25)), 0x8000);
  CHECK_EQ(h(3.0f * std::ldexp(1.0f, -26)), 0x0001); // 0.75 ulp rounds up
  CHECK_EQ(h(3.0f * std::ldexp(1.0f, -25)), 0x0002); // 1.5 ulp: tie -> even 2
  CHECK_EQ(h(5.0f * std::ldexp(1.0f, -25)), 0x0002); // 2.5 ulp: tie -> even 2
  CHECK_EQ(h(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie -> even
  CHECK_EQ(h(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  CHECK_EQ(h(std::ldexp(1.0f, -30)), 0x0000);
  CHECK(__hisnan(__float2half(NAN)));
  CHECK_EQ(h(NAN) & 0x7c00, 0x7c00);
  CHECK(h(NAN) & 0x3ff);
  CHECK(std::isnan(__half2float(__ushort_as_half(0x7e00))));
  CHECK(std::isnan(__half2float(__ushort_as_half(0xfc01))));
  CHECK_EQ(__half2float(__ushort_as_half(0x0001)), std::ldexp(1.0f, -24));
  CHECK_EQ(__half2float(__ushort_as_half(0x03ff)), 1023 * std::ldexp(1.0f, -24));
  CHECK_EQ(__half2float(__ushort_as_half(0x7bff)), 65504.0f);
  CHECK_EQ(__half2float(__ushort_as_half(0xfc00)), -INFINITY);
  CHECK_EQ(__half2float(__ushort_as_half(0xc100)), -2.5f);
}

TEST(Half, EveryHalfRoundTrips) {
  int bad = 0;
  for (unsigned b = 0; b < 0x10000; ++b) {
    auto x = static_cast<unsigned short>(b);
    float f = __half2float(__ushort_as_half(x));
    bool nan = (x & 0x7c00) == 0x7c00 && (x & 0x3ff);
    if (nan ? !std::isnan(f) : h(f) != x)
      ++bad;
    // Halfway to the next half up rounds to the even one of the two.
    if (!nan && (x & 0x7fff) < 0x7bff) {
      float next = __half2float(__ushort_as_half(static_cast<unsigned short>(x + 1)));
      double mid = (static_cast<double>(f) + next) / 2;
      unsigned short want = (x & 1) ? static_cast<unsigned short>(x + 1) : x;
      if (h(static_cast<float>(mid)) != want)
        ++bad;
    }
  }
  CHECK_EQ(bad, 0);
}

#if defined(__FLT16_MAX__)
TEST(Half, MatchesCompilerFloat16OnFloatsAndDoubles) {
  // g++'s _Float16 conversions (libgcc) round to nearest even.
  int bad = 0;
  for (std::uint64_t b = 0; b <= 0xffffffffull; b += 4093) {
    float f = __uint_as_float(static_cast<std::uint32_t>(b));
    _Float16 r = static_cast<_Float16>(f);
    unsigned short want;
    std::memcpy(&want, &r, 2);
    unsigned short got = h(f);
    if (std::isnan(f) ? (got & 0x7fff) <= 0x7c00 : got != want)
      ++bad;
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; ++i) {
    double d = std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 90));
    if (i & 1)
      d = -d;
    _Float16 r = static_cast<_Float16>(d);
    unsigned short want;
    std::memcpy(&want, &r, 2);
    if (__half_as_ushort(__double2half(d)) != want)
      ++bad;
  }
  CHECK_EQ(bad, 0);
}
#endif

TEST(Bfloat16, KnownBitPatternsAndTies) {
  CHECK_EQ(bf(1.0f), 0x3f80);
  CHECK_EQ(bf(-2.5f), 0xc020);
  CHECK_EQ(bf(__uint_as_float(0x3F808000u)), 0x3f80); // tie, even stays
  CHECK_EQ(bf(__uint_as_float(0x3F818000u)), 0x3f82); // tie, odd rounds up
  CHECK_EQ(bf(__uint_as_float(0x3F808001u)), 0x3f81); // above the tie
  CHECK_EQ(bf(__uint_as_float(0x3F807fffu)), 0x3f80);
  CHECK_EQ(bf(__uint_as_float(0x7f7fffffu)), 0x7f80); // FLT_MAX -> inf
  CHECK_EQ(bf(INFINITY), 0x7f80);
  CHECK_EQ(bf(-INFINITY), 0xff80);
  CHECK_EQ(bf(__uint_as_float(0x00018000u)), 0x0002); // subnormal tie, odd -> up
  CHECK(std::isnan(__bfloat162float(__float2bfloat16(NAN))));
  CHECK_EQ(__bfloat162float(__ushort_as_bfloat16(0xc020)), -2.5f);
  // Exhaustive: every bf16 widens exactly and converts back to itself.
  int bad = 0;
  for (unsigned b = 0; b < 0x10000; ++b) {
    auto x = static_cast<unsigned short>(b);
    float f = __bfloat162float(__ushort_as_bfloat16(x));
    if (std::isnan(f) ? !std::isnan(__bfloat162float(__float2bfloat16(f)))
                      : bf(f) != x)
      ++bad;
  }
  // Against a reference on doubles: nearest, ties to even.
  std::mt19937 rng(11);
  for (int i = 0; i < 200000; ++i) {
    float f = __uint_as_float(rng());
    if (!std::isfinite(f))
      continue;
    unsigned short lo = static_cast<unsigned short>(__float_as_uint(f) >> 16);
    unsigned short hi = static_cast<unsigned short>(lo + 1);
    double dl = __bfloat162float(__ushort_as_bfloat16(lo));
    double dh = (hi & 0x7f80) == 0x7f80 ? std::ldexp(std::copysign(1.0, f), 128)
                                        : __bfloat162float(__ushort_as_bfloat16(hi));
    double el = std::fabs(f - dl), eh = std::fabs(dh - f);
    unsigned short want = el < eh ? lo : eh < el ? hi : ((lo & 1) ? hi : lo);
    if (bf(f) != want)
      ++bad;
  }
  CHECK_EQ(bad, 0);
}

TEST(Half, ArithmeticAndPairs) {
  __half a = __float2half(1.5f), b = __float2half(2.25f);
  CHECK_EQ(__half2float(a + b), 3.75f);
  CHECK_EQ(__half2float(__hmul(a, b)), 3.375f);
  CHECK_EQ(__half2float(__hfma(a, b, __float2half(-3.0f))), 0.375f);
  CHECK(a < b);
  CHECK_EQ(__half2float(-a), -1.5f);
  __nv_bfloat16 c = __float2bfloat16(3.0f);
  CHECK_EQ(__bfloat162float(c * c), 9.0f);
  __half2 p = __floats2half2_rn(1.0f, -2.0f);
  float2 q = __half22float2(__hadd2(p, p));
  CHECK(q.x == 2.0f && q.y == -4.0f);
}

__global__ void halfKernel(const __half *in, __nv_bfloat16 *out) {
  unsigned t = threadIdx.x;
  __half v = __shfl_xor_sync(0xffffffffu, in[t], 1);
  out[t] = __float2bfloat16(__half2float(v) * 2.0f);
}

TEST(Half, ShuffledInKernels) {
  std::vector<__half> in(32);
  std::vector<__nv_bfloat16> out(32);
  for (int i = 0; i < 32; ++i)
    in[i] = __float2half(static_cast<float>(i));
  launch<halfKernel>(dim3(1), dim3(32), in.data(), out.data());
  for (int i = 0; i < 32; ++i)
    CHECK_EQ(__bfloat162float(out[i]), 2.0f * static_cast<float>(i ^ 1));
}

//===--- intrinsics --------------------------------------------------------===//

TEST(Intrinsics, BitsAndConversions) {
  CHECK_EQ(__float_as_uint(1.0f), 0x3f800000u);
  CHECK_EQ(__uint_as_float(0xc0200000u), -2.5f);
  CHECK_EQ(__float_as_int(-0.0f), INT_MIN);
  CHECK_EQ(__int_as_float(0x40000000), 2.0f);
  CHECK_EQ(__popc(0xf0f0u), 8);
  CHECK_EQ(__popcll(~0ULL), 64);
  CHECK_EQ(__clz(1), 31);
  CHECK_EQ(__clz(0), 32);
  CHECK_EQ(__clz(-1), 0);
  CHECK_EQ(__clzll(1LL), 63);
  CHECK_EQ(__ffs(0), 0);
  CHECK_EQ(__ffs(0x18), 4);
  CHECK_EQ(__brev(1u), 0x80000000u);
  CHECK_EQ(__brev(0x12345678u), 0x1e6a2c48u);
  CHECK_EQ(__brevll(1ULL), 0x8000000000000000ULL);
  CHECK_EQ(__byte_perm(0x33221100u, 0x77665544u, 0x5410u), 0x55441100u);
  CHECK_EQ(__umulhi(0x80000000u, 4u), 2u);
  CHECK_EQ(__fdividef(1.0f, 4.0f), 0.25f);
  CHECK_EQ(__float2int_rn(2.5f), 2);
  CHECK_EQ(__float2int_rn(3.5f), 4);
  CHECK_EQ(__float2int_rz(-2.7f), -2);
  CHECK_EQ(__saturatef(1.5f), 1.0f);
  CHECK_EQ(__saturatef(NAN), 0.0f);
  CHECK_EQ(rsqrtf(4.0f), 0.5f);
  CHECK_EQ(fminf(1.0f, 2.0f), 1.0f);
  CHECK_EQ(fmaxf(1.0f, 2.0f), 2.0f);
  CHECK_EQ(fabsf(-3.0f), 3.0f);
  CHECK_EQ(sqrtf(9.0f), 3.0f);
  CHECK_EQ(expf(0.0f), 1.0f);
  int a = 4;
  CHECK_EQ(__ldg(&a), 4);
}

TEST(Intrinsics, MinMaxOverloadsCoexistWithStd) {
  CHECK_EQ(min(3, -4), -4);
  CHECK_EQ(max(3u, 9u), 9u);
  CHECK_EQ(min(2LL, 1LL << 40), 2LL);
  CHECK_EQ(max(1.5f, -2.0f), 1.5f);
  CHECK_EQ(max(static_cast<std::size_t>(3), static_cast<std::size_t>(8)),
           static_cast<std::size_t>(8));
  CHECK_EQ(umin(5u, 2u), 2u);
  // std:: stays std::, also under using-directives.
  CHECK_EQ(std::min(3, 4), 3);
  CHECK_EQ(std::max<double>(1, 2.5), 2.5);
  {
    using namespace std;
    CHECK_EQ(min(7, 8), 7);
    std::vector<int> v{3, 1, 2};
    CHECK_EQ(*max_element(v.begin(), v.end()), 3);
  }
  CHECK_EQ(std::sqrt(2.0f), sqrtf(2.0f));
  auto s = sqrt(2.0f); // float overload in the global namespace, like CUDA
  CHECK((std::is_same_v<decltype(s), float>));
}

//===--- failures ----------------------------------------------------------===//

__global__ void deadlockHalfAtBarrier(int *out) {
  unsigned lane = threadIdx.x % 32;
  int v = static_cast<int>(threadIdx.x);
  if (blockIdx.x == 1 && lane < 16) {
    __syncthreads(); // waits for lanes 16..31, which never come
  } else {
    v = __shfl_xor_sync(0xffffffffu, v, 16); // needs lanes 0..15 of its warp
    __syncthreads();
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

TEST(Failures, DeadlockIsReportedNotHung) {
  std::vector<int> out(128);
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<deadlockHalfAtBarrier>(dim3(2), dim3(64), out.data())),
               "deadlock", "block (1,0,0)", "__syncthreads()",
               "__shfl_xor_sync(mask 0xffffffff)", "HostEmulationTest.cpp");
  // Block 0 finished before block 1 deadlocked.
  for (int t = 0; t < 64; ++t)
    CHECK_EQ(out[t], t ^ 16);
  // The scheduler recovers: later launches work.
  std::vector<int> in(256, 1), sums(1);
  launch<treeReduce>(dim3(1), dim3(256), in.data(), sums.data());
  CHECK_EQ(sums[0], 256);
}

__global__ void deadlockSyncwarp(int *) {
  if (threadIdx.x < 32)
    __syncthreads();
  else if (threadIdx.x != 40)
    __syncwarp(); // full mask, lane 8 of warp 1 waits at __syncthreads
  else
    __syncthreads();
}

TEST(Failures, DeadlockBetweenSyncwarpAndSyncthreads) {
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<deadlockSyncwarp>(dim3(1), dim3(64), nullptr)),
               "deadlock", "block (0,0,0)", "__syncwarp", "waits for lanes 0x00000100");
}

__global__ void divergentCollectives(int *) {
  unsigned lane = threadIdx.x % 32;
  if (lane < 16)
    (void)__shfl_xor_sync(0xffffffffu, 1, 1);
  else
    (void)__ballot_sync(0xffffffffu, 1);
}

TEST(Failures, DifferentCollectivesSameMask) {
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<divergentCollectives>(dim3(1), dim3(32), nullptr)),
               "warp divergence", "__shfl_xor_sync", "__ballot_sync");
}

__global__ void badMask(int *) { (void)__shfl_sync(0x1u, 1, 0); }

TEST(Failures, MaskWithoutOwnLane) {
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<badMask>(dim3(1), dim3(2), nullptr)),
               "does not include its own lane");
}

__global__ void throwsAt(int bad) {
  __syncthreads();
  if (static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x) == bad)
    throw std::out_of_range("kernel threw at " + std::to_string(bad));
  __syncthreads();
}

__global__ void trapKernel(int) {
  if (threadIdx.x == 3)
    __trap();
  __syncthreads();
}

TEST(Failures, KernelExceptionsAndTrap) {
  CHECK_THROWS(std::out_of_range, (launch<throwsAt>(dim3(4), dim3(64), 150)),
               "kernel threw at 150");
  CHECK_THROWS(ssprop::emu::EmulationError, (launch<trapKernel>(dim3(1), dim3(8), 0)),
               "__trap()", "threadIdx (3,0,0)");
  launch<throwsAt>(dim3(4), dim3(64), -1); // fine again
}

TEST(Failures, InvalidConfiguration) {
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<throwsAt>(dim3(1), dim3(1025), -1)), "invalid block");
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<throwsAt>(dim3(1), dim3(32, 32, 2), -1)), "invalid block");
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<throwsAt>(dim3(0), dim3(32), -1)), "invalid grid");
}

__global__ void nestedLaunch(int) {
  if (threadIdx.x == 0)
    launch<throwsAt>(dim3(1), dim3(1), -1);
}

TEST(Failures, NestedLaunchRejected) {
  CHECK_THROWS(ssprop::emu::EmulationError,
               (launch<nestedLaunch>(dim3(1), dim3(4), 0)), "inside an emulated kernel");
}

__global__ void recurse(int depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  if (depth > 0)
    recurse(depth - 1);
  pad[1] = pad[0];
}

TEST(Failures, StackOverflowHitsGuardPage) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  std::cout.flush();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    ssprop::emu::setFiberStackSize(16 * 1024);
    launch<recurse>(dim3(1), dim3(2), 100000);
    _exit(0);
  }
  close(fds[1]);
  std::string err;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  CHECK(err.find("fiber stack overflow of emulated thread threadIdx (0,0,0) in block (0,0,0)") !=
        std::string::npos);
  CHECK(err.find("16 KiB") != std::string::npos);
}

//===--- shared library state, reentrancy, threads -------------------------===//

TEST(Module, DlopenedKernelsShareTheScheduler) {
  void *lib = dlopen(SSPROP_EMU_TEST_MODULE, RTLD_NOW | RTLD_LOCAL);
  CHECK(lib != nullptr);
  if (!lib) {
    std::cout << "    dlopen: " << dlerror() << "\n";
    return;
  }
  auto saxpy = reinterpret_cast<ssprop::emu::KernelEntry>(
      dlsym(lib, "moduleSaxpy_host"));
  auto blockSum = reinterpret_cast<ssprop::emu::KernelEntry>(
      dlsym(lib, "moduleBlockSum_host"));
  auto launchInside = reinterpret_cast<void (*)(const float *, float *, int, int)>(
      dlsym(lib, "moduleLaunchBlockSum"));
  CHECK(saxpy && blockSum && launchInside);
  if (saxpy && blockSum && launchInside) {
    int n = 1000;
    float a = 2.0f;
    std::vector<float> x(n), y(n);
    for (int i = 0; i < n; ++i) {
      x[i] = static_cast<float>(i);
      y[i] = 1.0f;
    }
    const float *xp = x.data();
    float *yp = y.data();
    void *params[] = {&n, &a, &xp, &yp};
    ssprop::emu::resetStats();
    ssprop::emu::launchKernel(saxpy, dim3((n + 255) / 256), dim3(256), params);
    for (int i = 0; i < n; ++i)
      CHECK_EQ(y[i], 2.0f * static_cast<float>(i) + 1.0f);
    CHECK_EQ(ssprop::emu::stats().blocks, 4u);

    std::vector<float> in(3 * 256), out(3);
    for (int i = 0; i < 3 * 256; ++i)
      in[i] = static_cast<float>(i % 256);
    const float *inp = in.data();
    float *outp = out.data();
    void *p2[] = {&inp, &outp};
    ssprop::emu::launchKernel(blockSum, dim3(3), dim3(256), p2);
    for (int b = 0; b < 3; ++b)
      CHECK_EQ(out[b], 32640.0f);
    std::fill(out.begin(), out.end(), 0.0f);
    launchInside(in.data(), out.data(), 3, 256);
    for (int b = 0; b < 3; ++b)
      CHECK_EQ(out[b], 32640.0f);
    CHECK_EQ(ssprop::emu::stats().launches, 3u);
  }
  dlclose(lib);
}

__global__ void tiny(int *out) { out[blockIdx.x * blockDim.x + threadIdx.x] += 1; }

TEST(Reentrancy, ManyLaunchesAndBothSwitchMethods) {
  std::vector<int> out(64, 0);
  for (int i = 0; i < 2000; ++i)
    launch<tiny>(dim3(2), dim3(32), out.data());
  for (int v : out)
    CHECK_EQ(v, 2000);
  ssprop::emu::setSwitchMethod(ssprop::emu::SwitchMethod::SwapContext);
  std::vector<int> in(512, 3), sums(2);
  launch<treeReduce>(dim3(2), dim3(256), in.data(), sums.data());
  CHECK(sums[0] == 768 && sums[1] == 768);
  std::vector<int> rot(128);
  launch<rotate<true>>(dim3(1), dim3(128), rot.data(), 5);
  CHECK_EQ(rot[0], 12);
  ssprop::emu::setSwitchMethod(ssprop::emu::SwitchMethod::SetJmp);
  launch<treeReduce>(dim3(2), dim3(256), in.data(), sums.data());
  CHECK(sums[0] == 768 && sums[1] == 768);
}

__global__ void warpSumNoShared(const int *in, int *out) {
  int v = in[blockIdx.x * blockDim.x + threadIdx.x];
  for (int m = 16; m >= 1; m >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, m);
  __syncthreads();
  if (threadIdx.x % 32 == 0)
    atomicAdd(&out[blockIdx.x], v);
}

TEST(Reentrancy, IndependentOsThreads) {
  // Each OS thread has its own scheduler (kernels without __shared__ only:
  // __shared__ is a static shared by every OS thread).
  auto work = [](int seed, bool *ok) {
    std::vector<int> in(8 * 128), out(8);
    for (int i = 0; i < 200; ++i) {
      std::fill(in.begin(), in.end(), seed + i);
      std::fill(out.begin(), out.end(), 0);
      launch<warpSumNoShared>(dim3(8), dim3(128), in.data(), out.data());
      for (int b = 0; b < 8; ++b)
        if (out[b] != 128 * (seed + i))
          *ok = false;
    }
  };
  bool ok1 = true, ok2 = true;
  std::thread t1(work, 1, &ok1), t2(work, 1000, &ok2);
  t1.join();
  t2.join();
  CHECK(ok1 && ok2);
}

//===--- performance (reported, not asserted) ------------------------------===//

__global__ void barrierLoop(int iters, int *sink) {
  unsigned acc = 0;
  for (int i = 0; i < iters; ++i) {
    acc += threadIdx.x;
    __syncthreads();
  }
  if (acc == 12345u)
    *sink = 1;
}

__global__ void shuffleLoop(int iters, int *sink) {
  unsigned v = threadIdx.x;
  for (int i = 0; i < iters; ++i)
    v += __shfl_xor_sync(0xffffffffu, v, 1 + i % 31);
  if (v == 12345u)
    *sink = 1;
}

double switchRate(ssprop::emu::SwitchMethod m, int iters, bool shuffles,
                  double *perBarrierNs) {
  ssprop::emu::setSwitchMethod(m);
  int sink = 0;
  launch<barrierLoop>(dim3(1), dim3(256), 1, &sink); // warm up the fibers
  ssprop::emu::resetStats();
  auto t0 = std::chrono::steady_clock::now();
  if (shuffles)
    launch<shuffleLoop>(dim3(1), dim3(256), iters, &sink);
  else
    launch<barrierLoop>(dim3(1), dim3(256), iters, &sink);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto st = ssprop::emu::stats();
  *perBarrierNs = s * 1e9 / iters;
  ssprop::emu::setSwitchMethod(ssprop::emu::SwitchMethod::SetJmp);
  return static_cast<double>(st.switches) / s;
}

TEST(Performance, FiberSwitchRate) {
  double ns;
  double sj = switchRate(ssprop::emu::SwitchMethod::SetJmp, 4000, false, &ns);
  std::printf("    _setjmp/_longjmp: %.1f M switches/s (__syncthreads, 256 threads: %.1f us each)\n",
              sj / 1e6, ns / 1e3);
  double sh = switchRate(ssprop::emu::SwitchMethod::SetJmp, 4000, true, &ns);
  std::printf("    _setjmp/_longjmp: %.1f M switches/s (__shfl_xor_sync, 256 threads: %.1f us each)\n",
              sh / 1e6, ns / 1e3);
  double sc = switchRate(ssprop::emu::SwitchMethod::SwapContext, 400, false, &ns);
  std::printf("    swapcontext:      %.1f M switches/s (__syncthreads, 256 threads: %.1f us each)\n",
              sc / 1e6, ns / 1e3);
  CHECK(sj > 0 && sc > 0 && sh > 0);
}

} // namespace

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const TestCase &tc : registry()) {
    if (filter && !std::strstr(tc.name, filter))
      continue;
    std::cout << "[ RUN      ] " << tc.name << "\n" << std::flush;
    gCheckFailures = 0;
    auto t0 = std::chrono::steady_clock::now();
    try {
      tc.fn();
    } catch (const std::exception &e) {
      reportFailure(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0).count();
    if (gCheckFailures) {
      ++failed;
      std::cout << "[  FAILED  ] " << tc.name << " (" << gCheckFailures
                << " failed checks, " << ms << " ms)\n";
    } else {
      ++passed;
      std::cout << "[       OK ] " << tc.name << " (" << ms << " ms)\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

#endif // SSPROP_EMU_TEST_KERNEL_MODULE
