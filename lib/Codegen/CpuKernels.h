//===- CpuKernels.h - the CPU kernels of the emitter ------------*- C++ -*-===//
//
// One function per kernel kind turns a plain specification (shapes,
// geometry, k bucket, element type, register tile, vector length) into an
// MLIR module holding one kernel function, printed as the kernel's source,
// and the number of tiles it is called with. The IR walk lives in
// CpuEmitter.cpp; the loop nests are described in docs/codegen.md.
//
// Every kernel takes flat memrefs (the bare pointers of the buffers), index
// scalars, and the tile range [t0, t1) last; tiles write disjoint outputs,
// so the caller may run ranges on several threads. Reductions run in a fixed
// order, whatever the thread count.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_LIB_CODEGEN_CPUKERNELS_H
#define SSPROP_LIB_CODEGEN_CPUKERNELS_H

#include "Kernels.h"

#include "ssprop/Core/CpuCodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"

#include <cstdint>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace ssprop::cpu {

using codegen::ConvShape;

/// A kernel's source with its tile count and the f32 scratch each worker
/// needs (0: none).
struct CpuKernel {
  KernelSource source;
  int64_t tiles = 1;
  int64_t scratchFloats = 0;
};

/// Per-channel partial sums of |dy| and dy over a chunk of images: tile =
/// chunk (getReduceChunks(n) of them, fixed by the shape), writing
/// partials[chunk][channel][2][vl].
/// Params: (dy, partials).
struct ReducePartialsSpec {
  ElementType type; // of dy
  int64_t n, channels, spatial;
  bool withAbs, withSum;
  int vectorLength;
};
int64_t getReduceChunks(int64_t n);
CpuKernel emitReducePartials(mlir::MLIRContext *context,
                             const ReducePartialsSpec &spec);

/// Adds the partials in chunk order: score[c] = mean |dy| (f32) and/or
/// sums[c] (in `sumType`). One tile. Params: (partials, score?, sums?).
struct ReduceFinishSpec {
  int64_t n, channels, spatial;
  bool withScore, withSum;
  ElementType sumType;
  int vectorLength;
};
CpuKernel emitReduceFinish(mlir::MLIRContext *context,
                           const ReduceFinishSpec &spec);

/// The k channels with the largest keys, ascending: score keys (NaN above
/// +inf) or the random keys of a seed (ssprop/Core/RandomKey.h); ties to the
/// lower channel. One tile. Params: (score | seed, keys scratch, kept, k).
struct SelectSpec {
  int64_t channels, kBucket;
  bool random;
  int vectorLength;
};
CpuKernel emitSelect(mlir::MLIRContext *context, const SelectSpec &spec);

/// positions[c] = i where kept[i] = c, else -1. One tile.
/// Params: (kept, positions, k).
CpuKernel emitPositions(mlir::MLIRContext *context, int64_t channels,
                        int64_t kBucket);

/// offsets[g] = the number of kept channels below g * groupSize. One tile.
/// Params: (kept, offsets, k).
CpuKernel emitGroupOffsets(mlir::MLIRContext *context, int64_t groups,
                           int64_t groupSize, int64_t kBucket);

/// Places rows into a zero-filled [channels, inner] result (in `outType`),
/// summing `splits` partial copies in order: tile = output channel.
/// KeptRows: rows[split][positions[c]]; ChannelRows: rows[split][c] for kept
/// c; AllRows: rows[split][c] for every c (no positions).
/// Params: (rows, positions?, out).
struct ScatterSpec {
  ElementType outType;
  int64_t channels, inner, splits, rowsPerSplit;
  codegen::ScatterKernelSpec::Source source;
  int vectorLength;
};
CpuKernel emitScatter(mlir::MLIRContext *context, const ScatterSpec &spec);

/// The weight gradient of the kept rows (all rows without `gather`) into f32
/// partials[chunk][row][Cin/groups][KH*KW]: tile = chunk of images.
/// Params: (x, dy, kept?, groupOffsets?, partials, scratch, k).
struct WgradSpec {
  ElementType type;
  ConvShape conv;
  bool gather;
  int64_t kBucket;
  int rows, cols;
  int64_t chunks;
  int vectorLength;
};
int64_t getWgradRows(const WgradSpec &spec);
CpuKernel emitWgrad(mlir::MLIRContext *context, const WgradSpec &spec);

/// The weights of the kept channels, packed per block of `blockChannels`
/// input channels into one contiguous stream: tile = (group, block).
/// Params: (weight, kept?, groupOffsets?, packed, k).
struct PackWeightSpec {
  ElementType type;
  ConvShape conv;
  bool gather;
  int64_t kBucket;
  int blockChannels;
};
int64_t getPackedWeightFloats(const PackWeightSpec &spec);
CpuKernel emitPackWeight(mlir::MLIRContext *context,
                         const PackWeightSpec &spec);

/// The input gradient from the packed weights: tile = block of images.
/// Params: (dy, packed, kept?, groupOffsets?, dx, scratch, k).
struct DgradSpec {
  ElementType type;
  ConvShape conv;
  bool gather;
  int64_t kBucket;
  int channels, vectors;
  bool tapsOuter;
  int vectorLength;
};
CpuKernel emitDgrad(mlir::MLIRContext *context, const DgradSpec &spec);

/// The largest mask table (i32 entries) one wgrad or dgrad kernel may carry:
/// larger planes are not generated (docs/codegen.md).
constexpr int64_t kMaxMaskEntries = int64_t(1) << 18;
/// Why the convolution kernels cannot be generated for `conv`, or "".
std::string checkConvSupported(const ConvShape &conv, int vectorLength);

/// Names a finished kernel module: `ssprop_cpu_<what>_<hash of the IR>`,
/// renaming its function and tables, and prints it.
KernelSource nameKernel(mlir::ModuleOp module, const std::string &what);

} // namespace ssprop::cpu

#endif // SSPROP_LIB_CODEGEN_CPUKERNELS_H
