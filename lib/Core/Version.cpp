//===- Version.cpp - ssprop's version string ------------------------------===//

#include "ssprop/Core/Version.h"

const char *ssprop::version() { return SSPROP_VERSION; }

std::string ssprop::versionLine() { return std::string("ssprop ") + version(); }
