//===- HostEmulation.h - Run CUDA kernel sources as host C++ ----*- C++ -*-===//
//
// Force-included (`g++ -include HostEmulation.h`) in front of an emitted CUDA
// kernel source when a test compiles that source as ordinary host C++ (CI has
// no GPU). It supplies the CUDA built-ins a kernel uses -- threadIdx
// and friends, the execution-space qualifiers, __syncthreads, warp shuffles and
// votes, atomics, bit and float intrinsics, __half / __nv_bfloat16 -- on top of
// the fiber scheduler in libSSPropHostEmulation.so, which runs every thread of
// a block as a user-space fiber so barriers and shuffles really synchronise.
//
// Never include this when compiling with NVRTC or nvcc. Kernel sources know
// nothing of it: the prelude leaves its inline-PTX wrappers out without
// __CUDACC__, and HostEmulationPtx.h defines them for the host.
//
// See docs/host-emulation.md for what is and is not modelled.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_HOSTEMULATION_H
#define SSPROP_TEST_CODEGEN_HOSTEMULATION_H

#if defined(__CUDACC__) || defined(__CUDACC_RTC__) || defined(__CUDA_ARCH__)
#error "HostEmulation.h is for host C++ compilation only; do not include it when compiling CUDA"
#endif

// Standard headers first: <memory> uses __attribute__((__noinline__)), which
// the __noinline__ macro below would break if <memory> were included later.
#include <cassert>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
// libstdc++'s <math.h> also brings the float overloads (std::sqrt(float), ...)
// into the global namespace, as CUDA's math headers do.
#include <math.h>

#define SSPROP_EMU_API __attribute__((visibility("default")))

//===----------------------------------------------------------------------===//
// Vector types
//===----------------------------------------------------------------------===//

#if !defined(__VECTOR_TYPES_H__) // CUDA's vector_types.h already defines them
struct uint3 {
  unsigned int x, y, z;
};

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define SSPROP_EMU_VEC2(T, N, A)                                              \
  struct alignas(A) N##2 { T x, y; };                                          \
  inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }
#define SSPROP_EMU_VEC3(T, N)                                                 \
  struct N##3 { T x, y, z; };                                                  \
  inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }
#define SSPROP_EMU_VEC4(T, N, A)                                              \
  struct alignas(A) N##4 { T x, y, z, w; };                                    \
  inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }

SSPROP_EMU_VEC2(float, float, 8)
SSPROP_EMU_VEC3(float, float)
SSPROP_EMU_VEC4(float, float, 16)
SSPROP_EMU_VEC2(int, int, 8)
SSPROP_EMU_VEC3(int, int)
SSPROP_EMU_VEC4(int, int, 16)
SSPROP_EMU_VEC2(unsigned int, uint, 8)
SSPROP_EMU_VEC4(unsigned int, uint, 16)
SSPROP_EMU_VEC2(double, double, 16)
SSPROP_EMU_VEC2(long long, longlong, 16)
SSPROP_EMU_VEC4(signed char, char, 4)
SSPROP_EMU_VEC4(unsigned char, uchar, 4)
inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) {
  return uint3{x, y, z};
}
#undef SSPROP_EMU_VEC2
#undef SSPROP_EMU_VEC3
#undef SSPROP_EMU_VEC4
#endif

//===----------------------------------------------------------------------===//
// Runtime interface (implemented in HostEmulation.cpp)
//===----------------------------------------------------------------------===//

namespace ssprop::emu {

/// What an emulated thread sees as its built-in variables.
struct ThreadCtx {
  uint3 tid;       // threadIdx
  uint3 bid;       // blockIdx
  dim3 bdim;       // blockDim
  dim3 gdim;       // gridDim
  unsigned linear; // x-fastest linear thread id within the block
  unsigned lane;   // linear % 32
  unsigned warp;   // linear / 32
};

/// The running emulated thread's context. Outside a kernel: a context with
/// every index 0 and every dimension 1.
SSPROP_EMU_API const ThreadCtx &current() noexcept __attribute__((pure));

/// Entry of one kernel: unpacks `params` (one pointer per kernel argument,
/// like cuLaunchKernel's kernelParams) and calls the kernel.
using KernelEntry = void (*)(void **params);

/// Runs `entry` for every thread of every block of `grid`. Blocks run one
/// after another; the threads of a block run as fibers on the calling OS
/// thread. Throws EmulationError for an invalid configuration, a deadlock,
/// warp divergence at a collective, __trap() or a fiber stack overflow that
/// the canary caught, and rethrows any exception a kernel thread threw.
SSPROP_EMU_API void launchKernel(KernelEntry entry, dim3 grid, dim3 block,
                                 void **params);

class SSPROP_EMU_API EmulationError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
  ~EmulationError() override;
};

/// Fiber stack size for launches on the calling OS thread (default 64 KiB or
/// $SSPROP_EMU_STACK_KB). Rounded up to whole pages; takes effect at the next
/// launch. Throws if called from inside a kernel.
SSPROP_EMU_API void setFiberStackSize(std::size_t bytes);
SSPROP_EMU_API std::size_t fiberStackSize();

/// How fibers switch: _setjmp/_longjmp (default, fast) or swapcontext (saves
/// the signal mask: a syscall per switch). $SSPROP_EMU_SWITCH=swapcontext.
enum class SwitchMethod { SetJmp, SwapContext };
SSPROP_EMU_API void setSwitchMethod(SwitchMethod method);

/// Counters of the calling OS thread's scheduler.
struct Stats {
  std::uint64_t launches = 0;
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;     // emulated thread runs (blocks x threads)
  std::uint64_t switches = 0;    // fiber context switches
  std::uint64_t fiberStarts = 0; // fibers entered from scratch (makecontext)
};
SSPROP_EMU_API Stats stats();
SSPROP_EMU_API void resetStats();

namespace detail {
enum class WarpOp : int {
  SyncWarp,
  ShflIdx,
  ShflUp,
  ShflDown,
  ShflXor,
  Ballot,
  Any,
  All,
  MatchAny,
  MatchAll,
  ReduceAdd,
  ReduceMinU,
  ReduceMaxU,
  ReduceMinI,
  ReduceMaxI,
  ReduceAnd,
  ReduceOr,
  ReduceXor,
};
enum class BarrierOp : int { Plain, Count, And, Or };

SSPROP_EMU_API int syncThreads(BarrierOp op, int pred, const char *file,
                               int line);
/// A warp-wide collective of the calling lane: returns the lane's result.
SSPROP_EMU_API std::uint64_t warpOp(WarpOp op, unsigned mask,
                                    std::uint64_t value, int param, int width,
                                    const char *file, int line);
SSPROP_EMU_API unsigned activeMask() noexcept;
[[noreturn]] SSPROP_EMU_API void trap(const char *what, const char *file,
                                      int line);

template <class T> inline std::uint64_t toBits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "warp collectives exchange values of at most 8 bytes");
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T> inline T fromBits(std::uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

template <class F> struct KernelTraits;
template <class... P> struct KernelTraits<void (*)(P...)> {
  using Args = std::tuple<std::decay_t<P>...>;
};
template <auto K, class Tuple, std::size_t... I>
inline void invokeKernel(void **p, std::index_sequence<I...>) {
  K(*static_cast<std::tuple_element_t<I, Tuple> *>(p[I])...);
}
template <auto K> void kernelThunk(void **p) {
  using Args = typename KernelTraits<decltype(K)>::Args;
  invokeKernel<K, Args>(p,
                        std::make_index_sequence<std::tuple_size_v<Args>>{});
}
} // namespace detail

/// Typed convenience launcher: `launch<myKernel>(grid, block, a, b, n)`.
template <auto K, class... A> void launch(dim3 grid, dim3 block, A &&...args) {
  using Args = typename detail::KernelTraits<decltype(K)>::Args;
  static_assert(sizeof...(A) == std::tuple_size_v<Args>,
                "wrong number of kernel arguments");
  Args values(std::forward<A>(args)...);
  std::apply(
      [&](auto &...v) {
        void *params[] = {static_cast<void *>(&v)..., nullptr};
        launchKernel(&detail::kernelThunk<K>, grid, block, params);
      },
      values);
}

} // namespace ssprop::emu

/// Defines `extern "C" void NAME_host(void **params)`, the launchKernel entry
/// of the kernel NAME, for a program that finds it with dlsym. Kernel sources
/// carry no host entry: a test appends one of these per kernel to the source
/// it compiles as host C++.
#define SSPROP_EMU_HOST_ENTRY(NAME)                                            \
  extern "C" SSPROP_EMU_API void NAME##_host(void **params) {                  \
    ::ssprop::emu::detail::kernelThunk<NAME>(params);                          \
  }

//===----------------------------------------------------------------------===//
// Built-in variables and qualifiers
//===----------------------------------------------------------------------===//

#define threadIdx (::ssprop::emu::current().tid)
#define blockIdx (::ssprop::emu::current().bid)
#define blockDim (::ssprop::emu::current().bdim)
#define gridDim (::ssprop::emu::current().gdim)
inline constexpr int warpSize = 32;

#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __grid_constant__
// One object shared by all fibers of a block; blocks run one after another, so
// it is per block. Dynamic `extern __shared__ T x[];` is not supported.
#define __shared__ static
// __restrict__ is a g++/clang keyword already.

//===----------------------------------------------------------------------===//
// Barriers, warp collectives
//===----------------------------------------------------------------------===//

#define SSPROP_EMU_LOC const char *file = __builtin_FILE(), int line = __builtin_LINE()
#define SSPROP_EMU_FENCE() __asm__ __volatile__("" ::: "memory")

namespace ssprop::emu::detail {
/// A block barrier with compiler fences on both sides, so that no shared
/// value is kept in a register across it.
inline int fencedBarrier(BarrierOp op, int pred, const char *file, int line) {
  SSPROP_EMU_FENCE();
  int r = syncThreads(op, pred, file, line);
  SSPROP_EMU_FENCE();
  return r;
}
} // namespace ssprop::emu::detail

inline void __syncthreads(SSPROP_EMU_LOC) {
  ::ssprop::emu::detail::fencedBarrier(::ssprop::emu::detail::BarrierOp::Plain,
                                       0, file, line);
}
inline int __syncthreads_count(int pred, SSPROP_EMU_LOC) {
  return ::ssprop::emu::detail::fencedBarrier(
      ::ssprop::emu::detail::BarrierOp::Count, pred, file, line);
}
inline int __syncthreads_and(int pred, SSPROP_EMU_LOC) {
  return ::ssprop::emu::detail::fencedBarrier(
      ::ssprop::emu::detail::BarrierOp::And, pred, file, line);
}
inline int __syncthreads_or(int pred, SSPROP_EMU_LOC) {
  return ::ssprop::emu::detail::fencedBarrier(
      ::ssprop::emu::detail::BarrierOp::Or, pred, file, line);
}

namespace ssprop::emu::detail {
inline std::uint64_t warpCall(WarpOp op, unsigned mask, std::uint64_t v,
                              int param, int width, const char *file,
                              int line) {
  SSPROP_EMU_FENCE();
  std::uint64_t r = warpOp(op, mask, v, param, width, file, line);
  SSPROP_EMU_FENCE();
  return r;
}
} // namespace ssprop::emu::detail

inline void __syncwarp(unsigned mask = 0xffffffffu, SSPROP_EMU_LOC) {
  ::ssprop::emu::detail::warpCall(::ssprop::emu::detail::WarpOp::SyncWarp,
                                  mask, 0, 0, 32, file, line);
}

#define SSPROP_EMU_SHFL(NAME, OP, PTYPE)                                       \
  template <class T>                                                           \
  inline T NAME(unsigned mask, T var, PTYPE p, int width = warpSize,           \
                SSPROP_EMU_LOC) {                                              \
    return ::ssprop::emu::detail::fromBits<T>(::ssprop::emu::detail::warpCall( \
        ::ssprop::emu::detail::WarpOp::OP, mask,                               \
        ::ssprop::emu::detail::toBits(var), static_cast<int>(p), width, file,  \
        line));                                                                \
  }
SSPROP_EMU_SHFL(__shfl_sync, ShflIdx, int)
SSPROP_EMU_SHFL(__shfl_up_sync, ShflUp, unsigned int)
SSPROP_EMU_SHFL(__shfl_down_sync, ShflDown, unsigned int)
SSPROP_EMU_SHFL(__shfl_xor_sync, ShflXor, int)
#undef SSPROP_EMU_SHFL

inline unsigned __ballot_sync(unsigned mask, int pred, SSPROP_EMU_LOC) {
  return static_cast<unsigned>(::ssprop::emu::detail::warpCall(
      ::ssprop::emu::detail::WarpOp::Ballot, mask, pred != 0, 0, 32, file,
      line));
}
inline int __any_sync(unsigned mask, int pred, SSPROP_EMU_LOC) {
  return static_cast<int>(::ssprop::emu::detail::warpCall(
      ::ssprop::emu::detail::WarpOp::Any, mask, pred != 0, 0, 32, file, line));
}
inline int __all_sync(unsigned mask, int pred, SSPROP_EMU_LOC) {
  return static_cast<int>(::ssprop::emu::detail::warpCall(
      ::ssprop::emu::detail::WarpOp::All, mask, pred != 0, 0, 32, file, line));
}
template <class T>
inline unsigned __match_any_sync(unsigned mask, T value, SSPROP_EMU_LOC) {
  return static_cast<unsigned>(::ssprop::emu::detail::warpCall(
      ::ssprop::emu::detail::WarpOp::MatchAny, mask,
      ::ssprop::emu::detail::toBits(value), 0, 32, file, line));
}
template <class T>
inline unsigned __match_all_sync(unsigned mask, T value, int *pred,
                                 SSPROP_EMU_LOC) {
  unsigned r = static_cast<unsigned>(::ssprop::emu::detail::warpCall(
      ::ssprop::emu::detail::WarpOp::MatchAll, mask,
      ::ssprop::emu::detail::toBits(value), 0, 32, file, line));
  *pred = r != 0;
  return r;
}
#define SSPROP_EMU_REDUCE(NAME, T, OP)                                         \
  inline T NAME(unsigned mask, T value, SSPROP_EMU_LOC) {                      \
    return static_cast<T>(::ssprop::emu::detail::warpCall(                     \
        ::ssprop::emu::detail::WarpOp::OP, mask,                               \
        static_cast<std::uint32_t>(value), 0, 32, file, line));                \
  }
SSPROP_EMU_REDUCE(__reduce_add_sync, unsigned, ReduceAdd)
SSPROP_EMU_REDUCE(__reduce_add_sync, int, ReduceAdd)
SSPROP_EMU_REDUCE(__reduce_min_sync, unsigned, ReduceMinU)
SSPROP_EMU_REDUCE(__reduce_min_sync, int, ReduceMinI)
SSPROP_EMU_REDUCE(__reduce_max_sync, unsigned, ReduceMaxU)
SSPROP_EMU_REDUCE(__reduce_max_sync, int, ReduceMaxI)
SSPROP_EMU_REDUCE(__reduce_and_sync, unsigned, ReduceAnd)
SSPROP_EMU_REDUCE(__reduce_or_sync, unsigned, ReduceOr)
SSPROP_EMU_REDUCE(__reduce_xor_sync, unsigned, ReduceXor)
#undef SSPROP_EMU_REDUCE

/// The live (not exited) lanes of the calling warp: the emulation does not
/// track divergence, so inside a divergent branch this is wider than CUDA's.
inline unsigned __activemask() { return ::ssprop::emu::detail::activeMask(); }

inline void __threadfence() { SSPROP_EMU_FENCE(); }
inline void __threadfence_block() { SSPROP_EMU_FENCE(); }
inline void __threadfence_system() { SSPROP_EMU_FENCE(); }
inline void __nanosleep(unsigned) {}
[[noreturn]] inline void __trap(SSPROP_EMU_LOC) {
  ::ssprop::emu::detail::trap("__trap()", file, line);
}
[[noreturn]] inline void __brkpt(SSPROP_EMU_LOC) {
  ::ssprop::emu::detail::trap("__brkpt()", file, line);
}
inline long long clock64() { // nanoseconds, monotonic
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

//===----------------------------------------------------------------------===//
// Atomics: fibers never switch inside one, so a plain read-modify-write is
// atomic with respect to every other emulated thread.
//===----------------------------------------------------------------------===//

#define SSPROP_EMU_ATOMIC_RMW(NAME, T, EXPR)                                   \
  inline T NAME(T *address, T val) {                                           \
    T old = *address;                                                          \
    *address = (EXPR);                                                         \
    return old;                                                                \
  }
SSPROP_EMU_ATOMIC_RMW(atomicAdd, int, old + val)
SSPROP_EMU_ATOMIC_RMW(atomicAdd, unsigned int, old + val)
SSPROP_EMU_ATOMIC_RMW(atomicAdd, unsigned long long, old + val)
SSPROP_EMU_ATOMIC_RMW(atomicAdd, float, old + val)
SSPROP_EMU_ATOMIC_RMW(atomicAdd, double, old + val)
SSPROP_EMU_ATOMIC_RMW(atomicSub, int, old - val)
SSPROP_EMU_ATOMIC_RMW(atomicSub, unsigned int, old - val)
SSPROP_EMU_ATOMIC_RMW(atomicExch, int, val)
SSPROP_EMU_ATOMIC_RMW(atomicExch, unsigned int, val)
SSPROP_EMU_ATOMIC_RMW(atomicExch, unsigned long long, val)
SSPROP_EMU_ATOMIC_RMW(atomicExch, float, val)
SSPROP_EMU_ATOMIC_RMW(atomicMax, int, old < val ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMax, unsigned int, old < val ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMax, long long, old < val ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMax, unsigned long long, old < val ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMin, int, val < old ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMin, unsigned int, val < old ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMin, long long, val < old ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicMin, unsigned long long, val < old ? val : old)
SSPROP_EMU_ATOMIC_RMW(atomicAnd, int, old & val)
SSPROP_EMU_ATOMIC_RMW(atomicAnd, unsigned int, old & val)
SSPROP_EMU_ATOMIC_RMW(atomicAnd, unsigned long long, old & val)
SSPROP_EMU_ATOMIC_RMW(atomicOr, int, old | val)
SSPROP_EMU_ATOMIC_RMW(atomicOr, unsigned int, old | val)
SSPROP_EMU_ATOMIC_RMW(atomicOr, unsigned long long, old | val)
SSPROP_EMU_ATOMIC_RMW(atomicXor, int, old ^ val)
SSPROP_EMU_ATOMIC_RMW(atomicXor, unsigned int, old ^ val)
SSPROP_EMU_ATOMIC_RMW(atomicXor, unsigned long long, old ^ val)
SSPROP_EMU_ATOMIC_RMW(atomicInc, unsigned int, old >= val ? 0u : old + 1u)
SSPROP_EMU_ATOMIC_RMW(atomicDec, unsigned int,
                      (old == 0u || old > val) ? val : old - 1u)
#undef SSPROP_EMU_ATOMIC_RMW

#define SSPROP_EMU_ATOMIC_CAS(T)                                               \
  inline T atomicCAS(T *address, T compare, T val) {                           \
    T old = *address;                                                          \
    if (old == compare)                                                        \
      *address = val;                                                          \
    return old;                                                                \
  }
SSPROP_EMU_ATOMIC_CAS(int)
SSPROP_EMU_ATOMIC_CAS(unsigned int)
SSPROP_EMU_ATOMIC_CAS(unsigned long long)
SSPROP_EMU_ATOMIC_CAS(unsigned short)
#undef SSPROP_EMU_ATOMIC_CAS

// Scoped variants (sm_60+) behave the same here.
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicExch_block atomicExch
#define atomicCAS_block atomicCAS

//===----------------------------------------------------------------------===//
// Loads/stores with cache hints, bit and conversion intrinsics
//===----------------------------------------------------------------------===//

template <class T> inline T __ldg(const T *p) { return *p; }
template <class T> inline T __ldcg(const T *p) { return *p; }
template <class T> inline T __ldca(const T *p) { return *p; }
template <class T> inline T __ldcs(const T *p) { return *p; }
template <class T> inline T __ldlu(const T *p) { return *p; }
template <class T> inline T __ldcv(const T *p) { return *p; }
template <class T> inline void __stwb(T *p, T v) { *p = v; }
template <class T> inline void __stcg(T *p, T v) { *p = v; }
template <class T> inline void __stcs(T *p, T v) { *p = v; }
template <class T> inline void __stwt(T *p, T v) { *p = v; }

namespace ssprop::emu::detail {
template <class To, class From> inline To bitCast(From f) {
  static_assert(sizeof(To) == sizeof(From), "bitCast size mismatch");
  To t;
  std::memcpy(&t, &f, sizeof(To));
  return t;
}
} // namespace ssprop::emu::detail

inline unsigned int __float_as_uint(float x) {
  return ::ssprop::emu::detail::bitCast<unsigned int>(x);
}
inline int __float_as_int(float x) {
  return ::ssprop::emu::detail::bitCast<int>(x);
}
inline float __uint_as_float(unsigned int x) {
  return ::ssprop::emu::detail::bitCast<float>(x);
}
inline float __int_as_float(int x) {
  return ::ssprop::emu::detail::bitCast<float>(x);
}
inline long long __double_as_longlong(double x) {
  return ::ssprop::emu::detail::bitCast<long long>(x);
}
inline double __longlong_as_double(long long x) {
  return ::ssprop::emu::detail::bitCast<double>(x);
}
inline int __double2hiint(double x) {
  return static_cast<int>(__double_as_longlong(x) >> 32);
}
inline int __double2loint(double x) {
  return static_cast<int>(__double_as_longlong(x) & 0xffffffff);
}
inline double __hiloint2double(int hi, int lo) {
  return __longlong_as_double(static_cast<long long>(
      (static_cast<unsigned long long>(static_cast<unsigned>(hi)) << 32) |
      static_cast<unsigned>(lo)));
}

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) {
  return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x));
}
inline int __clzll(long long x) {
  return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
inline unsigned long long __brevll(unsigned long long x) {
  return (static_cast<unsigned long long>(__brev(static_cast<unsigned>(x)))
          << 32) |
         __brev(static_cast<unsigned>(x >> 32));
}
inline unsigned int __byte_perm(unsigned int x, unsigned int y,
                                unsigned int s) {
  unsigned long long v = (static_cast<unsigned long long>(y) << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i)
    r |= static_cast<unsigned>((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff)
         << (8 * i);
  return r;
}
inline unsigned int __funnelshift_l(unsigned int lo, unsigned int hi,
                                    unsigned int shift) {
  unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned>((v << (shift & 31)) >> 32);
}
inline unsigned int __funnelshift_r(unsigned int lo, unsigned int hi,
                                    unsigned int shift) {
  unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned>(v >> (shift & 31));
}
inline int __mulhi(int x, int y) {
  return static_cast<int>((static_cast<long long>(x) * y) >> 32);
}
inline unsigned int __umulhi(unsigned int x, unsigned int y) {
  return static_cast<unsigned>((static_cast<unsigned long long>(x) * y) >> 32);
}
inline long long __mul64hi(long long x, long long y) {
  return static_cast<long long>((static_cast<__int128>(x) * y) >> 64);
}
inline unsigned long long __umul64hi(unsigned long long x,
                                     unsigned long long y) {
  return static_cast<unsigned long long>(
      (static_cast<unsigned __int128>(x) * y) >> 64);
}
inline int __mul24(int x, int y) {
  return static_cast<int>(static_cast<unsigned>(x << 8 >> 8) *
                          static_cast<unsigned>(y << 8 >> 8));
}
inline unsigned int __umul24(unsigned int x, unsigned int y) {
  return (x & 0xffffffu) * (y & 0xffffffu);
}

// Fast-math and explicitly rounded float intrinsics (round-to-nearest-even is
// the host default; the fast approximations are computed exactly here).
inline float __fdividef(float x, float y) { return x / y; }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline double __dadd_rn(double x, double y) { return x + y; }
inline double __dmul_rn(double x, double y) { return x * y; }
inline double __fma_rn(double x, double y, double z) {
  return std::fma(x, y, z);
}
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline void __sincosf(float x, float *s, float *c) {
  *s = std::sin(x);
  *c = std::cos(x);
}
inline float __saturatef(float x) {
  return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); // NaN -> 0
}

inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
inline unsigned int __float2uint_rn(float x) {
  return static_cast<unsigned>(std::nearbyint(x));
}
inline unsigned int __float2uint_rz(float x) {
  return static_cast<unsigned>(x);
}
inline long long __float2ll_rn(float x) {
  return static_cast<long long>(std::nearbyint(x));
}
inline long long __float2ll_rz(float x) { return static_cast<long long>(x); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned int x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }
inline int __double2int_rn(double x) {
  return static_cast<int>(std::nearbyint(x));
}
inline int __double2int_rz(double x) { return static_cast<int>(x); }

// CUDA's integer and mixed min/max overloads in the global namespace. They are
// plain functions, so for matching argument types they beat std::min/std::max
// under `using namespace std;` and leave qualified std:: calls alone.
#define SSPROP_EMU_MINMAX(A, B, R)                                             \
  inline R min(A a, B b) {                                                     \
    return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(a)           \
                                                 : static_cast<R>(b);          \
  }                                                                            \
  inline R max(A a, B b) {                                                     \
    return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(b)           \
                                                 : static_cast<R>(a);          \
  }
SSPROP_EMU_MINMAX(int, int, int)
SSPROP_EMU_MINMAX(unsigned int, unsigned int, unsigned int)
SSPROP_EMU_MINMAX(int, unsigned int, unsigned int)
SSPROP_EMU_MINMAX(unsigned int, int, unsigned int)
SSPROP_EMU_MINMAX(long, long, long)
SSPROP_EMU_MINMAX(unsigned long, unsigned long, unsigned long)
SSPROP_EMU_MINMAX(long, unsigned long, unsigned long)
SSPROP_EMU_MINMAX(unsigned long, long, unsigned long)
SSPROP_EMU_MINMAX(long long, long long, long long)
SSPROP_EMU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
SSPROP_EMU_MINMAX(long long, unsigned long long, unsigned long long)
SSPROP_EMU_MINMAX(unsigned long long, long long, unsigned long long)
#undef SSPROP_EMU_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double min(float a, double b) { return std::fmin(a, b); }
inline double max(float a, double b) { return std::fmax(a, b); }
inline double min(double a, float b) { return std::fmin(a, b); }
inline double max(double a, float b) { return std::fmax(a, b); }
inline unsigned int umin(unsigned int a, unsigned int b) { return min(a, b); }
inline unsigned int umax(unsigned int a, unsigned int b) { return max(a, b); }
inline long long llmin(long long a, long long b) { return min(a, b); }
inline long long llmax(long long a, long long b) { return max(a, b); }
inline unsigned long long ullmin(unsigned long long a, unsigned long long b) {
  return min(a, b);
}
inline unsigned long long ullmax(unsigned long long a, unsigned long long b) {
  return max(a, b);
}

//===----------------------------------------------------------------------===//
// __half and __nv_bfloat16: 16-bit storage, arithmetic in float, conversions
// rounded to nearest even exactly as CUDA's (NaN becomes the canonical
// 0x7fff, like cuda_fp16.hpp / cuda_bf16.hpp).
//===----------------------------------------------------------------------===//

namespace ssprop::emu::detail {
inline unsigned short f32ToF16Bits(float f) {
  std::uint32_t x = bitCast<std::uint32_t>(f);
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) // NaN
    return 0x7fffu;
  if (ax >= 0x477ff000u) // >= 65520 (incl. inf) rounds to inf
    return static_cast<unsigned short>(sign | 0x7c00u);
  if (ax >= 0x38800000u) { // normal half (>= 2^-14): rebias, round 13 bits
    std::uint32_t bits = (ax >> 13) - (112u << 10);
    std::uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (bits & 1u)))
      ++bits; // a carry into the exponent is the right answer
    return static_cast<unsigned short>(sign | bits);
  }
  // Subnormal half: value / 2^-24 = m * 2^(e - 126) with m the 24-bit
  // significand; 2^-25 (a tie) and anything smaller go to zero.
  std::uint32_t e = ax >> 23;
  std::uint32_t shift = 126u - e;
  if (shift > 24u)
    return static_cast<unsigned short>(sign);
  std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
  std::uint32_t q = m >> shift;
  std::uint32_t rem = m & ((1u << shift) - 1u);
  std::uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u)))
    ++q; // may become 0x400, the smallest normal: also right
  return static_cast<unsigned short>(sign | q);
}

inline float f16BitsToF32(unsigned short h) {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t e = (h >> 10) & 0x1fu;
  std::uint32_t m = h & 0x3ffu;
  std::uint32_t r;
  if (e == 0x1fu) {
    r = m ? 0x7fffffffu : (sign | 0x7f800000u);
  } else if (e == 0) {
    if (m == 0) {
      r = sign;
    } else { // subnormal: normalise
      e = 113;
      while (!(m & 0x400u)) {
        m <<= 1;
        --e;
      }
      r = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }
  } else {
    r = sign | ((e + 112u) << 23) | (m << 13);
  }
  return bitCast<float>(r);
}

inline unsigned short f32ToBf16Bits(float f) {
  std::uint32_t u = bitCast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return 0x7fffu;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<unsigned short>(u >> 16);
}

inline float bf16BitsToF32(unsigned short b) {
  return bitCast<float>(static_cast<std::uint32_t>(b) << 16);
}

/// double -> float rounded to odd (truncate, then set the last bit if
/// inexact). Rounding that to nearest even with at most 22 significand bits
/// gives the correctly rounded result: no double-rounding error.
inline float f64ToF32RoundOdd(double d) {
  float f = static_cast<float>(d);
  if (std::isnan(d) || std::isinf(d))
    return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(d))
    f = std::nextafter(f, 0.0f);
  if (static_cast<double>(f) != d)
    f = bitCast<float>(bitCast<std::uint32_t>(f) | 1u);
  return f;
}
} // namespace ssprop::emu::detail

struct __half_raw {
  unsigned short x;
};
struct __nv_bfloat16_raw {
  unsigned short x;
};

struct __half {
  unsigned short __x;
  __half() = default;
  constexpr __half(__half_raw r) : __x(r.x) {}
  __half(float f) : __x(::ssprop::emu::detail::f32ToF16Bits(f)) {}
  __half(double d)
      : __x(::ssprop::emu::detail::f32ToF16Bits(
            ::ssprop::emu::detail::f64ToF32RoundOdd(d))) {}
  __half(int v) : __half(static_cast<double>(v)) {}
  __half(unsigned int v) : __half(static_cast<double>(v)) {}
  __half(long v) : __half(static_cast<double>(v)) {}
  __half(unsigned long v) : __half(static_cast<double>(v)) {}
  __half(long long v) : __half(static_cast<double>(v)) {}
  __half(unsigned long long v) : __half(static_cast<double>(v)) {}
  __half(short v) : __half(static_cast<float>(v)) {}
  __half(unsigned short v) : __half(static_cast<float>(v)) {}
  operator float() const { return ::ssprop::emu::detail::f16BitsToF32(__x); }
  operator __half_raw() const { return __half_raw{__x}; }
};

struct __nv_bfloat16 {
  unsigned short __x;
  __nv_bfloat16() = default;
  constexpr __nv_bfloat16(__nv_bfloat16_raw r) : __x(r.x) {}
  __nv_bfloat16(float f) : __x(::ssprop::emu::detail::f32ToBf16Bits(f)) {}
  __nv_bfloat16(double d)
      : __x(::ssprop::emu::detail::f32ToBf16Bits(
            ::ssprop::emu::detail::f64ToF32RoundOdd(d))) {}
  __nv_bfloat16(int v) : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(unsigned int v) : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(long v) : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(unsigned long v) : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(long long v) : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(unsigned long long v)
      : __nv_bfloat16(static_cast<double>(v)) {}
  __nv_bfloat16(short v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(unsigned short v) : __nv_bfloat16(static_cast<float>(v)) {}
  operator float() const { return ::ssprop::emu::detail::bf16BitsToF32(__x); }
  operator __nv_bfloat16_raw() const { return __nv_bfloat16_raw{__x}; }
};

typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;

static_assert(sizeof(__half) == 2 && std::is_trivially_copyable_v<__half> &&
                  std::is_trivially_default_constructible_v<__half>,
              "__half must be a trivial 16-bit type");
static_assert(sizeof(__nv_bfloat16) == 2 &&
                  std::is_trivially_copyable_v<__nv_bfloat16>,
              "__nv_bfloat16 must be a trivial 16-bit type");

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline float __half2float(__half h) { return static_cast<float>(h); }
inline __half __double2half(double d) { return __half(d); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline short __half_as_short(__half h) { return static_cast<short>(h.__x); }
inline __half __ushort_as_half(unsigned short x) {
  return __half(__half_raw{x});
}
inline __half __short_as_half(short x) {
  return __half(__half_raw{static_cast<unsigned short>(x)});
}
inline __half __int2half_rn(int v) { return __half(v); }
inline int __half2int_rz(__half h) { return static_cast<int>(static_cast<float>(h)); }
inline int __half2int_rn(__half h) { return __float2int_rn(static_cast<float>(h)); }

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {
  std::uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return __nv_bfloat16(__nv_bfloat16_raw{0x7fffu});
  return __nv_bfloat16(__nv_bfloat16_raw{static_cast<unsigned short>(u >> 16)});
}
inline float __bfloat162float(__nv_bfloat16 b) { return static_cast<float>(b); }
inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16(d); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
inline short __bfloat16_as_short(__nv_bfloat16 b) {
  return static_cast<short>(b.__x);
}
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short x) {
  return __nv_bfloat16(__nv_bfloat16_raw{x});
}
inline __nv_bfloat16 __short_as_bfloat16(short x) {
  return __nv_bfloat16(__nv_bfloat16_raw{static_cast<unsigned short>(x)});
}
inline __nv_bfloat16 __int2bfloat16_rn(int v) { return __nv_bfloat16(v); }
inline int __bfloat162int_rz(__nv_bfloat16 b) {
  return static_cast<int>(static_cast<float>(b));
}

// Arithmetic and comparisons (CUDA overloads the same __h* names for both
// types): computed in float (fma in double) and rounded once. Exact: the wider
// format carries more than twice the significand bits plus two, so rounding
// twice equals rounding once.
#define SSPROP_EMU_HALF_OPS(H)                                                 \
  inline H __hadd(H a, H b) { return H(float(a) + float(b)); }                 \
  inline H __hsub(H a, H b) { return H(float(a) - float(b)); }                 \
  inline H __hmul(H a, H b) { return H(float(a) * float(b)); }                 \
  inline H __hdiv(H a, H b) { return H(float(a) / float(b)); }                 \
  inline H __hfma(H a, H b, H c) {                                             \
    return H(static_cast<double>(float(a)) * float(b) + float(c));             \
  }                                                                            \
  inline H __hneg(H a) {                                                       \
    a.__x = static_cast<unsigned short>(a.__x ^ 0x8000u);                      \
    return a;                                                                  \
  }                                                                            \
  inline H __habs(H a) {                                                       \
    a.__x = static_cast<unsigned short>(a.__x & 0x7fffu);                      \
    return a;                                                                  \
  }                                                                            \
  inline H __hmax(H a, H b) { return H(std::fmax(float(a), float(b))); }       \
  inline H __hmin(H a, H b) { return H(std::fmin(float(a), float(b))); }       \
  inline H hsqrt(H a) { return H(std::sqrt(float(a))); }                       \
  inline bool __hisnan(H a) { return std::isnan(float(a)); }                   \
  inline int __hisinf(H a) {                                                   \
    float f = float(a);                                                        \
    return std::isinf(f) ? (f < 0 ? -1 : 1) : 0;                               \
  }                                                                            \
  inline bool __heq(H a, H b) { return float(a) == float(b); }                 \
  inline bool __hne(H a, H b) { return float(a) != float(b); }                 \
  inline bool __hlt(H a, H b) { return float(a) < float(b); }                  \
  inline bool __hle(H a, H b) { return float(a) <= float(b); }                 \
  inline bool __hgt(H a, H b) { return float(a) > float(b); }                  \
  inline bool __hge(H a, H b) { return float(a) >= float(b); }                 \
  inline H operator+(H a, H b) { return __hadd(a, b); }                        \
  inline H operator-(H a, H b) { return __hsub(a, b); }                        \
  inline H operator*(H a, H b) { return __hmul(a, b); }                        \
  inline H operator/(H a, H b) { return __hdiv(a, b); }                        \
  inline H operator-(H a) { return __hneg(a); }                                \
  inline H &operator+=(H &a, H b) { return a = a + b; }                        \
  inline H &operator-=(H &a, H b) { return a = a - b; }                        \
  inline H &operator*=(H &a, H b) { return a = a * b; }                        \
  inline H &operator/=(H &a, H b) { return a = a / b; }                        \
  inline bool operator==(H a, H b) { return __heq(a, b); }                     \
  inline bool operator!=(H a, H b) { return __hne(a, b); }                     \
  inline bool operator<(H a, H b) { return __hlt(a, b); }                      \
  inline bool operator<=(H a, H b) { return __hle(a, b); }                     \
  inline bool operator>(H a, H b) { return __hgt(a, b); }                      \
  inline bool operator>=(H a, H b) { return __hge(a, b); }                     \
  inline H atomicAdd(H *address, H val) {                                      \
    H old = *address;                                                          \
    *address = old + val;                                                      \
    return old;                                                                \
  }
SSPROP_EMU_HALF_OPS(__half)
SSPROP_EMU_HALF_OPS(__nv_bfloat16)
#undef SSPROP_EMU_HALF_OPS

// Pairs (minimal).
struct alignas(4) __half2 {
  __half x, y;
};
struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
typedef __half2 half2;
typedef __nv_bfloat162 nv_bfloat162;
inline __half2 __halves2half2(__half a, __half b) { return __half2{a, b}; }
inline __half2 __floats2half2_rn(float a, float b) {
  return __half2{__half(a), __half(b)};
}
inline __half2 __float2half2_rn(float a) { return __half2{__half(a), __half(a)}; }
inline __half2 __float22half2_rn(float2 f) { return __floats2half2_rn(f.x, f.y); }
inline float2 __half22float2(__half2 h) { return float2{float(h.x), float(h.y)}; }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline float __low2float(__half2 h) { return float(h.x); }
inline float __high2float(__half2 h) { return float(h.y); }
inline __half2 __hadd2(__half2 a, __half2 b) {
  return __half2{a.x + b.x, a.y + b.y};
}
inline __half2 __hmul2(__half2 a, __half2 b) {
  return __half2{a.x * b.x, a.y * b.y};
}
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) {
  return __nv_bfloat162{a, b};
}
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
  return __nv_bfloat162{__nv_bfloat16(a), __nv_bfloat16(b)};
}
inline __nv_bfloat162 __float22bfloat162_rn(float2 f) {
  return __floats2bfloat162_rn(f.x, f.y);
}
inline float2 __bfloat1622float2(__nv_bfloat162 h) {
  return float2{float(h.x), float(h.y)};
}
inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 h) { return h.x; }
inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 h) { return h.y; }

// Both types always exist here, so every unit gets the prelude's f16 and bf16
// helpers: the kernels a test compiles together share one prelude, expanded
// with the first kernel's feature macros.
#define SSPROP_USE_F16 1
#define SSPROP_USE_BF16 1

#undef SSPROP_EMU_LOC
#undef SSPROP_EMU_FENCE

// mma.sync, ldmatrix, cp.async and cvt.rna.tf32, and the prelude's wrappers.
#include "HostEmulationPtx.h"

#endif // SSPROP_TEST_CODEGEN_HOSTEMULATION_H
