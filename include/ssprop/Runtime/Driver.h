//===- Driver.h - the CUDA driver, loaded on first use ----------*- C++ -*-===//
//
// libcuda exists only where an NVIDIA driver is installed, so ssprop never
// links it: the driver is dlopen'ed at the first launch. Everything else
// (compiling, caching) works on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_DRIVER_H
#define SSPROP_RUNTIME_DRIVER_H

#include <cuda.h>

#include <stdexcept>
#include <string>

namespace ssprop {

/// The driver is missing or a driver call failed; the message says which.
class DriverError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The driver entry points ssprop uses.
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuCtxGetDevice)(CUdevice *);
  CUresult (*cuDeviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);

  /// The process's driver, loaded and initialised on the first call. Throws
  /// DriverError when libcuda.so.1 cannot be loaded or initialised.
  static const Driver &get();

  /// Throws DriverError naming `what` unless `result` is CUDA_SUCCESS.
  void check(CUresult result, const std::string &what) const;
};

/// The library name dlopen'ed; SSPROP_CUDA_DRIVER overrides it (tests use it
/// to simulate a missing driver).
std::string getDriverLibraryName();

} // namespace ssprop

#endif // SSPROP_RUNTIME_DRIVER_H
