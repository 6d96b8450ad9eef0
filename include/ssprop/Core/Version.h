//===- Version.h - ssprop's version string ----------------------*- C++ -*-===//
//
// One version for the whole project: CMake's project(VERSION), also the
// Python package's version (pyproject.toml reads it from CMakeLists.txt).
// The tools print it for --version, and the kernel and timing caches key
// their entries by it.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_VERSION_H
#define SSPROP_CORE_VERSION_H

#include <string>

namespace ssprop {

/// "0.1.0": the version this libssprop_core was built as.
const char *version();

/// "ssprop 0.1.0": what the tools print for --version, and the caches' keys
/// begin with.
std::string versionLine();

} // namespace ssprop

#endif // SSPROP_CORE_VERSION_H
