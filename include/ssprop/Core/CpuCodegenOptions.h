//===- CpuCodegenOptions.h - how the CPU emitter specialises ---*- C++ -*-===//
//
// Plain C++ (no MLIR or LLVM types): the instruction sets the CPU kernels are
// generated for, their register tiles (the tactic candidates) and the CPU a
// kernel object is compiled for (part of its cache key).
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_CPUCODEGENOPTIONS_H
#define SSPROP_CORE_CPUCODEGENOPTIONS_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ssprop {

/// The vector instruction sets of the CPU kernels.
enum class Isa { avx2, avx512 };

/// `avx2`, `avx512`.
const char *getIsaName(Isa isa);
std::optional<Isa> parseIsa(const std::string &name);
/// f32 lanes of one vector register: 8 (AVX2), 16 (AVX-512).
int getVectorLength(Isa isa);

/// The register tiles of the CPU kernels. wgrad: `wgradRows` kept channels x
/// `wgradCols` input channels of accumulators, each a vector along the
/// reduction. dgrad: `dgradChannels` input channels x `dgradVectors` vectors
/// of positions, with the taps outside the loop over kept channels (masks stay
/// in registers) or inside it (a kept channel's rows stay in L1).
struct CpuTileConfig {
  int wgradRows, wgradCols;
  int dgradChannels, dgradVectors;
  bool dgradTapsOuter;

  /// `w6x2_d5x2t` (`t`: taps outer, `j`: kept channels outer), as in tactic
  /// and kernel names.
  std::string getName() const;
  bool operator==(const CpuTileConfig &other) const;
};

/// The tiles timed for `isa`: the CPU tactic candidates.
const std::vector<CpuTileConfig> &getCpuTileConfigs(Isa isa);
/// The first of getCpuTileConfigs(Isa::avx2).
const CpuTileConfig &getDefaultCpuTileConfig();
/// One of the tiles of any instruction set, by name.
std::optional<CpuTileConfig> parseCpuTileConfig(const std::string &name);

struct CpuCodegenOptions {
  Isa isa = Isa::avx2;
  CpuTileConfig tile = getDefaultCpuTileConfig();
  /// Worker threads the tiles run on: wgrad splits its reduction over
  /// min(threads, N) image chunks, summed in a fixed order, so results are
  /// deterministic for a thread count.
  int threads = 1;
};

/// The CPU a kernel object is compiled for, as LLVM names it, and how: every
/// field is part of the object's cache key.
struct CpuTarget {
  /// LLVM's CPU name (`znver3`) and its feature string (`+avx2,+fma,...`).
  std::string cpu, features;
  Isa isa = Isa::avx2;
  /// The LLVM release and the code generation options the compiler uses.
  std::string llvmVersion, options;
};

/// The largest stride and kernel extent (per axis) the CPU kernels are
/// generated for: their phase and tap tables grow with both, and no network
/// needs more. Other layers run the framework's paths.
inline constexpr int64_t kMaxCpuKernelStride = 16;
inline constexpr int64_t kMaxCpuKernelExtent = 64;

/// Why the CPU kernels cannot take a layer of this stride and kernel size
/// (height, width), or "" when they can.
std::string checkCpuKernelGeometry(const std::array<int64_t, 2> &stride,
                                   const std::array<int64_t, 2> &kernel);

/// The instruction set the kernels use on a CPU with LLVM `features`
/// (`+avx512f,...`): AVX-512 with AVX512F/BW/DQ/VL, else AVX2 with FMA, else
/// none (no generated kernels).
std::optional<Isa> getIsaForFeatures(const std::string &features);

} // namespace ssprop

#endif // SSPROP_CORE_CPUCODEGENOPTIONS_H
