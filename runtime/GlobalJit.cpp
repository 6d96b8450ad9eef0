//===- GlobalJit.cpp - the process-wide JIT on the real compiler ----------===//
//
// The one file of the runtime that calls the compiler: everything else takes
// it as an argument, so that the runtime's tests run on a fake.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/Jit.h"

namespace ssprop {

/// The CPU kernels through the compiler facade: objects by LLVM, linked by
/// ORC. The loader outlives everything that may call a kernel: it is never
/// destroyed (its code must stay mapped until the process ends).
CpuToolchain getCompilerCpuToolchain() {
  CpuToolchain cpu;
  cpu.compileLayer = compileConvBackwardCpu;
  cpu.compileKernel = [](const KernelSource &kernel, const CpuTarget &target) {
    ObjectResult result = compileCpuKernel(kernel, target);
    if (!result.ok())
      throw CompileError("ssprop: " + result.error);
    return std::move(result.object);
  };
  static CpuObjectLoader *loader = new CpuObjectLoader();
  cpu.load = [](const std::string &object, const std::string &kernel) {
    std::string error;
    CpuKernelEntry entry = loader->load(object, kernel, error);
    if (!entry)
      throw CompileError("ssprop: " + error);
    return entry;
  };
  cpu.target = getHostCpuTarget();
  return cpu;
}

Jit &Jit::getGlobal() {
  static Jit jit(KernelCache::getOptionsFromEnvironment(), compileConvBackward,
                 nullptr, getCompilerCpuToolchain());
  return jit;
}

} // namespace ssprop
