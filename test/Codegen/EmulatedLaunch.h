//===- EmulatedLaunch.h - run a kernel entry on the host -------*- C++ -*-===//

#ifndef SSPROP_TEST_CODEGEN_EMULATEDLAUNCH_H
#define SSPROP_TEST_CODEGEN_EMULATEDLAUNCH_H

#include <array>

namespace ssprop::test {

/// Runs a generated kernel's `_host` entry for every thread of `grid` x
/// `block` under the host emulation.
void launchEmulated(void (*entry)(void **), std::array<unsigned, 3> grid,
                    std::array<unsigned, 3> block, void **params);

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_EMULATEDLAUNCH_H
