//===- EmulatedLaunch.cpp - the one file of the test that sees CUDA names -===//
//
// HostEmulation.h defines CUDA's built-ins as macros; keeping it out of the
// test driver keeps those macros away from GoogleTest and the standard
// library.
//
//===----------------------------------------------------------------------===//

#include "EmulatedLaunch.h"

#include "HostEmulation.h"

namespace ssprop::test {

void launchEmulated(void (*entry)(void **), std::array<unsigned, 3> grid,
                    std::array<unsigned, 3> block, void **params) {
  ssprop::emu::launchKernel(entry, dim3(grid[0], grid[1], grid[2]),
                            dim3(block[0], block[1], block[2]), params);
}

} // namespace ssprop::test
