//===- KernelPlan.h - what the code generators produce ----------*- C++ -*-===//
//
// The code generator's output, in plain C++ (no MLIR types) so that the JIT
// runtime and the LibTorch bridge can use it: kernel sources, the buffers they
// read and write, and the launches in execution order.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_KERNELPLAN_H
#define SSPROP_CORE_KERNELPLAN_H

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ssprop {

enum class ElementType { f32, f16, bf16, i32 };

/// Where a plan's kernels run: CUDA kernels launched on a stream, or CPU
/// functions whose tiles the caller runs on its threads.
enum class Device { cuda, cpu };

/// Bytes per element.
int64_t getElementSize(ElementType type);
/// `f32`, `f16`, `bf16`, `i32`.
const char *getElementTypeName(ElementType type);

/// A device buffer the launches use. Arguments and results are the lowered
/// function's own; temporaries are scratch the runtime allocates per call;
/// scratch buffers (CPU plans) are private to each worker thread: the caller
/// allocates `numElements` per worker and passes each worker its own.
struct BufferSpec {
  enum class Role { Argument, Result, Temporary, Scratch };
  Role role;
  /// Argument or result number (-1 for temporaries).
  int index;
  ElementType type;
  int64_t numElements;
  /// What the buffer holds, for plans printed for people (`score`, `kept`).
  std::string name;
};

/// One kernel parameter, in the kernel's parameter order.
struct KernelParam {
  enum class Kind {
    Buffer, ///< pointer to buffers[value]; a null pointer when value is -1
    Int32,  ///< the 32-bit integer `value`
    Int64,  ///< the 64-bit integer `value`
    Seed,   ///< a 64-bit seed the caller draws for seed number `value`
  };
  Kind kind;
  int64_t value;
};

/// One kernel: its self-contained source and the name of its entry point.
/// CUDA: C++ (prelude included) that NVRTC compiles alone, entry point
/// `extern "C"`. CPU: an MLIR module (func, scf, vector, memref, arith) that
/// the compiler lowers to an object; its entry point takes the parameters
/// as an array of 8-byte slots and a tile range (see KernelLaunch).
struct KernelSource {
  std::string name;
  std::string code;
};

/// One kernel call. CUDA: a launch of `grid` x `block` threads. CPU: a call
/// of the kernel's tiles [0, grid[0]) (block is {1, 1, 1}); the caller may
/// run disjoint tile ranges on several threads at once, passing each range
/// as two trailing index arguments after `params`.
struct KernelLaunch {
  /// Index into KernelPlan::kernels.
  int kernel;
  std::array<unsigned, 3> grid;
  std::array<unsigned, 3> block;
  std::vector<KernelParam> params;

  /// The number of tiles of a CPU call.
  int64_t getNumTiles() const { return grid[0]; }
};

struct KernelPlan {
  Device device = Device::cuda;
  std::vector<KernelSource> kernels;
  std::vector<BufferSpec> buffers;
  std::vector<KernelLaunch> launches;
  /// Number of random_seed ops, i.e. seeds the caller draws per execution.
  int numSeeds = 0;
  /// Where data-parallel processes make their selection agree: the launches
  /// before `selectLaunch` write each channel's score (mean |dy|, f32) into
  /// buffer `scoreBuffer`, which the caller may replace with the scores over
  /// every process (an all-reduce) before launching the rest. -1 when the
  /// plan selects by score nowhere.
  int selectLaunch = -1;
  int scoreBuffer = -1;
};

/// A human-readable listing of buffers and launches (not the sources).
std::string printPlan(const KernelPlan &plan);

} // namespace ssprop

#endif // SSPROP_CORE_KERNELPLAN_H
