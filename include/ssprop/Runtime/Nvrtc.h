//===- Nvrtc.h - compiling kernel sources with NVRTC ------------*- C++ -*-===//

#ifndef SSPROP_RUNTIME_NVRTC_H
#define SSPROP_RUNTIME_NVRTC_H

#include "ssprop/Core/CodegenOptions.h"
#include "ssprop/Core/KernelPlan.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace ssprop {

/// A kernel NVRTC could not compile: the message names the kernel and holds
/// NVRTC's whole log.
class NvrtcError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What ptxas reports for one kernel (`--ptxas-options=-v`).
struct ResourceUsage {
  int registers = -1;
  int sharedBytes = -1;
  int stackBytes = -1;
  int spillStoreBytes = -1;
  int spillLoadBytes = -1;
};

struct CompiledKernel {
  std::string cubin;
  std::string log;
  ResourceUsage usage;
};

/// NVRTC's version as major * 1000 + minor * 10 (13.0 -> 13000).
int getNvrtcVersion();

/// The options ssprop compiles with for `arch` (cubin for that exact arch).
std::vector<std::string> getNvrtcOptions(Arch arch);

/// Compiles `kernel` to a cubin for `arch`, with `extraOptions` after
/// ssprop's own (for measurements). Throws NvrtcError.
CompiledKernel compileWithNvrtc(const KernelSource &kernel, Arch arch,
                                const std::vector<std::string> &extraOptions = {});

/// Reads ptxas' report on `kernelName` from an NVRTC log.
ResourceUsage parsePtxasReport(const std::string &log,
                               const std::string &kernelName);

} // namespace ssprop

#endif // SSPROP_RUNTIME_NVRTC_H
