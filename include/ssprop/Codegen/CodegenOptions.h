//===- CodegenOptions.h - how the CUDA emitter specialises ------*- C++ -*-===//
//
// Plain C++ (no MLIR types): the runtime builds these from a layer key.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CODEGEN_CODEGENOPTIONS_H
#define SSPROP_CODEGEN_CODEGENOPTIONS_H

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

/// A SIMT GEMM tile: a CTA computes a bm x bn block of the output, stepping
/// through K by bk; each thread owns a tm x tn register block.
struct TileConfig {
  int bm, bn, bk, tm, tn;

  int getNumThreads() const { return (bm / tm) * (bn / tn); }
  /// `64x64x16_4x4`, as in kernel names and on command lines.
  std::string getName() const;
  /// Shared memory of the operand tiles, in bytes.
  int getSharedBytes() const { return (bm + bn) * bk * 4; }
  bool operator==(const TileConfig &other) const;
};

/// The tile configurations the emitter offers (the tactic candidates).
const std::vector<TileConfig> &getSimtTileConfigs();
/// One of getSimtTileConfigs() by name.
std::optional<TileConfig> parseTileConfig(const std::string &name);

struct CodegenOptions {
  Arch arch = Arch::sm90;
  TileConfig dgradTile = getSimtTileConfigs().front();
  TileConfig wgradTile = getSimtTileConfigs().front();
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

#endif // SSPROP_CODEGEN_CODEGENOPTIONS_H
