//===- PackedParams.h - a launch's parameters as kernels take them -*- C++
//-*-===//

#ifndef SSPROP_RUNTIME_PACKEDPARAMS_H
#define SSPROP_RUNTIME_PACKEDPARAMS_H

#include "ssprop/Core/KernelPlan.h"

#include <cstdint>
#include <vector>

namespace ssprop {

/// A launch's parameter values as cuLaunchKernel takes them: one 8-byte slot
/// per parameter and a pointer to each slot. CPU kernels take the slots.
class PackedParams {
public:
  /// `buffers[i]` is the address of plan buffer i; `seeds[i]` seed i's value.
  /// Throws std::out_of_range when the launch names a missing buffer or seed.
  PackedParams(const KernelLaunch &launch, const std::vector<void *> &buffers,
               const std::vector<uint64_t> &seeds);
  PackedParams(const PackedParams &) = delete;
  PackedParams &operator=(const PackedParams &) = delete;

  void **get() { return pointers.data(); }
  /// The slots themselves (a CPU kernel's parameters).
  const std::vector<uint64_t> &getValues() const { return slots; }

private:
  std::vector<uint64_t> slots;
  std::vector<void *> pointers;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_PACKEDPARAMS_H
