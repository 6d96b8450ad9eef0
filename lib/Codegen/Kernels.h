//===- Kernels.h - CUDA kernel templates of the emitter ---------*- C++ -*-===//
//
// One function per kernel kind turns a plain specification (shapes, geometry,
// tile, element type, arch: everything the kernel is specialised on) into a
// self-contained CUDA source and its launch shape. No MLIR here: the IR walk
// lives in CudaEmitter.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_LIB_CODEGEN_KERNELS_H
#define SSPROP_LIB_CODEGEN_KERNELS_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"

#include <array>
#include <cstdint>
#include <string>

namespace ssprop::codegen {

/// FNV-1a: a stable name suffix that differs whenever the source does.
uint64_t hashText(const std::string &text);

/// A kernel source with the grid and block it is launched with.
struct EmittedKernel {
  KernelSource source;
  std::array<unsigned, 3> grid;
  std::array<unsigned, 3> block;
};

/// Shapes and geometry of one convolution (NCHW, PyTorch's conventions).
struct ConvShape {
  int64_t n, inChannels, height, width;
  int64_t outChannels, outHeight, outWidth;
  int64_t kernelHeight, kernelWidth;
  int64_t strideH, strideW, padH, padW, dilationH, dilationW;
  int64_t groups;
  /// 1x1, stride 1, no padding: operands are plain matrices.
  bool plain;
};

/// Per-channel |dy| mean and/or sum over (N, Ho, Wo), one block per channel.
/// Params: (const T *dy, const int *kept, int k, float *score, S *sums).
struct ReduceKernelSpec {
  ElementType type;    // of dy
  ElementType sumType; // of sums
  int64_t n, channels, spatial;
  bool withScore, withSum;
  /// Reduce only the kept channels (sums[i] for kept[i]); rows = kBucket.
  bool gather;
  int kBucket;
  Arch arch;
};
EmittedKernel emitReduceKernel(const ReduceKernelSpec &spec);

/// The k largest scores (or k random channels), ascending, in one block.
/// Params: (const float *score, unsigned long long seed, int k, int *kept).
struct SelectKernelSpec {
  int64_t channels;
  bool random;
  Arch arch;
};
/// The largest channel count one select kernel handles (keys in shared memory).
constexpr int64_t kMaxSelectChannels = 8192;
EmittedKernel emitSelectKernel(const SelectKernelSpec &spec);

/// offsets[g] = number of kept channels below g * groupSize.
/// Params: (const int *kept, int k, int *offsets).
struct GroupOffsetsKernelSpec {
  int64_t groups, groupSize;
  Arch arch;
};
EmittedKernel emitGroupOffsetsKernel(const GroupOffsetsKernelSpec &spec);

/// Writes a dense [channels, inner] result from f32 rows summed over split-K
/// partials; channels that are not kept get zero.
/// Params: (const float *rows, const int *kept, int k, T *out).
struct ScatterKernelSpec {
  enum class Source {
    KeptRows,    ///< rows[split][position][inner], positions from `kept`
    ChannelRows, ///< rows[channel][inner], only kept channels copied
    AllRows,     ///< rows[split][channel][inner], every channel (dense)
  };
  ElementType outType;
  int64_t channels, inner;
  int64_t splits, rowsPerSplit;
  Source source;
  Arch arch;
};
EmittedKernel emitScatterKernel(const ScatterKernelSpec &spec);

/// Gathered weight gradient as a split-K implicit GEMM into f32 partials
/// [split][row][Cin/groups * KH * KW]. Params:
/// (const T *x, const T *dy, const int *kept, int k, float *partials).
struct WgradKernelSpec {
  ElementType type;
  ConvShape conv;
  TileConfig tile;
  bool gather;
  int kBucket;
  int64_t splits, kPerSplit;
  Arch arch;
};
/// Split-K factor and K per split for a wgrad of `conv` with `rows` rows.
std::pair<int64_t, int64_t>
chooseWgradSplit(const ConvShape &conv, int64_t rows, const TileConfig &tile,
                 ElementType type, const CodegenOptions &options);
EmittedKernel emitWgradKernel(const WgradKernelSpec &spec);

/// Input gradient as an implicit GEMM over the kept channels of each group.
/// Params: (const T *dy, const T *w, const int *kept, const int *offsets,
///          int k, T *dx).
struct DgradKernelSpec {
  ElementType type;
  ConvShape conv;
  TileConfig tile;
  bool gather;
  int kBucket;
  Arch arch;
};
EmittedKernel emitDgradKernel(const DgradKernelSpec &spec);

} // namespace ssprop::codegen

#endif // SSPROP_LIB_CODEGEN_KERNELS_H
