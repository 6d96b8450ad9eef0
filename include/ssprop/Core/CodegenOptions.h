//===- CodegenOptions.h - how the CUDA emitter specialises -----*- C++ -*-===//
//
// Plain C++ (no MLIR types): the runtime builds these from a layer key.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_CODEGENOPTIONS_H
#define SSPROP_CORE_CODEGENOPTIONS_H

#include "ssprop/Core/KernelPlan.h"

#include <optional>
#include <string>
#include <vector>

namespace ssprop {

/// The GPU architectures kernels are generated for.
enum class Arch { sm80, sm90 };

/// `sm_80`, `sm_90`.
const char *getArchName(Arch arch);
/// The compute capability times ten: 80, 90.
int getArchNumber(Arch arch);
std::optional<Arch> parseArch(const std::string &name);

/// How a GEMM tile computes: exact f32 FMAs on CUDA cores, or mma.sync on
/// tensor cores (TF32 for f32 operands, f16/bf16 with f32 accumulation).
enum class TileKind { simt, tensorCore };

/// A GEMM tile: a CTA computes a bm x bn block of the output. SIMT: steps
/// through K by bk elements, each thread owns a tm x tn register block.
/// Tensor cores: each warp owns a tm x tn block, K moves 64 bytes per stage
/// (16 f32 or 32 f16/bf16 elements; bk is 0) through a `stages`-deep cp.async
/// pipeline.
struct TileConfig {
  int bm, bn, bk, tm, tn;
  TileKind kind = TileKind::simt;
  int stages = 1;

  static TileConfig tensorCore(int bm, int bn, int wm, int wn, int stages) {
    return {bm, bn, 0, wm, wn, TileKind::tensorCore, stages};
  }
  int getNumThreads() const {
    return (bm / tm) * (bn / tn) * (kind == TileKind::simt ? 1 : 32);
  }
  /// GEMM K per step (per stage for tensor cores) for elements of `type`.
  int getKStep(ElementType type) const {
    return kind == TileKind::simt ? bk : 64 / getElementSize(type);
  }
  /// `64x64x16_4x4` (SIMT) or `tc128x64_w4s3` (4 warps, 3 stages), as in
  /// kernel names and on command lines.
  std::string getName() const;
  /// Shared memory of the operand tiles, in bytes.
  int getSharedBytes() const;
  bool operator==(const TileConfig &other) const;
};

/// The SIMT tile configurations (exact f32 arithmetic).
const std::vector<TileConfig> &getSimtTileConfigs();
/// The tensor-core tile configurations (sm_80+ mma.sync).
const std::vector<TileConfig> &getTensorCoreTileConfigs();
/// Every tile configuration usable for `type`: the tactic candidates.
std::vector<TileConfig> getTileConfigs(ElementType type);
/// The default: tensor cores (TF32 for f32, as PyTorch's cuDNN default).
const TileConfig &getDefaultTileConfig();
/// One of the SIMT or tensor-core configurations by name.
std::optional<TileConfig> parseTileConfig(const std::string &name);

struct CodegenOptions {
  Arch arch = Arch::sm90;
  TileConfig dgradTile = getDefaultTileConfig();
  TileConfig wgradTile = getDefaultTileConfig();
  /// Split-K factor of wgrad; 0 picks one from the shape and `numSMs`.
  int wgradSplitK = 0;
  /// Multiprocessors the split-K heuristic aims to fill (H100 SXM: 132).
  int numSMs = 132;
};

/// k rounded up to a multiple of `granularity`, at most `channels`: kernels
/// are specialised on this bucket and take the exact k at run time, so keep
/// values within one bucket share compiled kernels.
int getKeptBucket(int k, int channels, int granularity);

} // namespace ssprop

#endif // SSPROP_CORE_CODEGENOPTIONS_H
