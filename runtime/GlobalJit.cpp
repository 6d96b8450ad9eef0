//===- GlobalJit.cpp - the process-wide JIT on the real compiler ----------===//
//
// The one file of the runtime that calls the compiler: everything else takes
// it as an argument, so that the runtime's tests run on a fake.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Runtime/Jit.h"

namespace ssprop {

Jit &Jit::getGlobal() {
  static Jit jit(KernelCache::getOptionsFromEnvironment(), compileConvBackward);
  return jit;
}

} // namespace ssprop
