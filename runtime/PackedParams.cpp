//===- PackedParams.cpp - a launch's parameters as the driver takes them --===//

#include "ssprop/Runtime/PackedParams.h"

#include <cstring>

namespace ssprop {

PackedParams::PackedParams(const KernelLaunch &launch,
                           const std::vector<void *> &buffers,
                           const std::vector<uint64_t> &seeds)
    : slots(launch.params.size()), pointers(launch.params.size()) {
  for (size_t i = 0; i < launch.params.size(); ++i) {
    const KernelParam &param = launch.params[i];
    switch (param.kind) {
    case KernelParam::Kind::Buffer: {
      void *pointer = param.value < 0 ? nullptr : buffers.at(param.value);
      std::memcpy(&slots[i], &pointer, sizeof(pointer));
      break;
    }
    case KernelParam::Kind::Int32: {
      int32_t value = static_cast<int32_t>(param.value);
      std::memcpy(&slots[i], &value, sizeof(value));
      break;
    }
    case KernelParam::Kind::Int64:
      slots[i] = static_cast<uint64_t>(param.value);
      break;
    case KernelParam::Kind::Seed:
      slots[i] = seeds.at(param.value);
      break;
    }
    pointers[i] = &slots[i];
  }
}

} // namespace ssprop
