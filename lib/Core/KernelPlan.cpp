//===- KernelPlan.cpp - printing kernel plans -----------------------------===//

#include "ssprop/Core/KernelPlan.h"

#include <sstream>

namespace ssprop {

int64_t getElementSize(ElementType type) {
  return type == ElementType::f16 || type == ElementType::bf16 ? 2 : 4;
}

const char *getElementTypeName(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return "f32";
  case ElementType::f16:
    return "f16";
  case ElementType::bf16:
    return "bf16";
  case ElementType::i32:
    return "i32";
  }
  return "?";
}

namespace {
const char *getRoleName(BufferSpec::Role role) {
  switch (role) {
  case BufferSpec::Role::Argument:
    return "argument";
  case BufferSpec::Role::Result:
    return "result";
  case BufferSpec::Role::Temporary:
    return "temporary";
  case BufferSpec::Role::Scratch:
    return "scratch per worker";
  }
  return "?";
}

void printParam(std::ostream &os, const KernelParam &param) {
  switch (param.kind) {
  case KernelParam::Kind::Buffer:
    if (param.value < 0)
      os << "null";
    else
      os << "%" << param.value;
    return;
  case KernelParam::Kind::Int32:
  case KernelParam::Kind::Int64:
    os << param.value;
    return;
  case KernelParam::Kind::Seed:
    os << "seed" << param.value;
    return;
  }
}
} // namespace

std::string printPlan(const KernelPlan &plan) {
  std::ostringstream os;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const BufferSpec &buffer = plan.buffers[i];
    os << "buffer %" << i << ": " << getRoleName(buffer.role);
    if (buffer.index >= 0)
      os << " " << buffer.index;
    os << " " << buffer.name << " " << getElementTypeName(buffer.type) << "["
       << buffer.numElements << "]\n";
  }
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const KernelLaunch &launch = plan.launches[i];
    if (static_cast<int>(i) == plan.selectLaunch)
      os << "sync %" << plan.scoreBuffer
         << " (scores: summed over data-parallel processes)\n";
    if (plan.device == Device::cpu)
      os << "call " << plan.kernels[launch.kernel].name << " tiles("
         << launch.getNumTiles() << ") (";
    else
      os << "launch " << plan.kernels[launch.kernel].name << " grid("
         << launch.grid[0] << ", " << launch.grid[1] << ", " << launch.grid[2]
         << ") block(" << launch.block[0] << ", " << launch.block[1] << ", "
         << launch.block[2] << ") (";
    for (size_t i = 0; i < launch.params.size(); ++i) {
      os << (i ? ", " : "");
      printParam(os, launch.params[i]);
    }
    os << ")\n";
  }
  return os.str();
}

} // namespace ssprop
