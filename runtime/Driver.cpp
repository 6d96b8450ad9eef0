//===- Driver.cpp - the CUDA driver, loaded on first use ------------------===//

#include "ssprop/Runtime/Driver.h"

#include <cstdlib>
#include <dlfcn.h>

namespace ssprop {
namespace {

template <typename Fn>
void resolve(void *library, Fn &slot, const char *name) {
  void *symbol = ::dlsym(library, name);
  if (!symbol)
    throw DriverError(std::string("ssprop: the CUDA driver lacks ") + name +
                      "; update the NVIDIA driver");
  slot = reinterpret_cast<Fn>(symbol);
}

Driver load() {
  std::string name = getDriverLibraryName();
  void *library = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = ::dlerror();
    throw DriverError("ssprop: cannot load the CUDA driver (" + name +
                      "): " + (reason ? reason : "unknown error") +
                      ". ssprop compiles kernels without a GPU, but "
                      "launching them needs an NVIDIA GPU and its driver.");
  }
  Driver driver{};
  resolve(library, driver.cuInit, "cuInit");
  resolve(library, driver.cuGetErrorString, "cuGetErrorString");
  resolve(library, driver.cuCtxGetCurrent, "cuCtxGetCurrent");
  resolve(library, driver.cuCtxGetDevice, "cuCtxGetDevice");
  resolve(library, driver.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(library, driver.cuModuleLoadData, "cuModuleLoadData");
  resolve(library, driver.cuModuleGetFunction, "cuModuleGetFunction");
  resolve(library, driver.cuLaunchKernel, "cuLaunchKernel");
  driver.check(driver.cuInit(0), "cuInit");
  return driver;
}

} // namespace

std::string getDriverLibraryName() {
  const char *name = std::getenv("SSPROP_CUDA_DRIVER");
  return name && *name ? name : "libcuda.so.1";
}

const Driver &Driver::get() {
  // A failed load throws out of the initialiser, so the next call retries.
  static const Driver driver = load();
  return driver;
}

void Driver::check(CUresult result, const std::string &what) const {
  if (result == CUDA_SUCCESS)
    return;
  const char *message = nullptr;
  cuGetErrorString(result, &message);
  throw DriverError("ssprop: " + what + " failed: " +
                    (message ? message : "error " + std::to_string(result)));
}

} // namespace ssprop
