//===- JitSettings.cpp - the JIT's switches, from C++ and Python ----------===//
//
// The background JIT and the verification of generated kernels
// (runtime/LayerResolver.h), and the test hook that spoils one tactic's
// results to prove the verification rejects it.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Runtime/LayerResolver.h"
#include "ssprop/Torch/Ops.h"

#include <torch/library.h>

#include <stdexcept>

namespace ssprop {

void setJit(const std::string &mode) {
  std::optional<JitMode> parsed = parseJitMode(mode);
  if (!parsed)
    throw std::invalid_argument("ssprop: the JIT mode must be background or "
                                "blocking, got '" + mode + "'");
  ssprop::setJitMode(*parsed);
}

std::string getJit() {
  return ssprop::getJitMode() == JitMode::background ? "background"
                                                     : "blocking";
}

void setVerify(bool verify) { setVerifying(verify); }

void waitForCompiles() {
  torch_bridge::forEachResolver(
      [](LayerResolver &resolver) { resolver.waitForBackgroundCompiles(); });
}

void stopCompiles() {
  torch_bridge::forEachResolver(
      [](LayerResolver &resolver) { resolver.stopBackgroundCompiles(); });
}

} // namespace ssprop

namespace {

void setJitModeOp(c10::string_view mode) {
  try {
    ssprop::setJit(std::string(mode));
  } catch (const std::invalid_argument &error) {
    TORCH_CHECK(false, error.what());
  }
}

void corruptTacticOp(std::optional<c10::string_view> name) {
  ssprop::torch_bridge::corruptedTacticForTests() =
      name ? std::string(*name) : std::string();
}

} // namespace

TORCH_LIBRARY_FRAGMENT(ssprop, m) {
  m.def("set_jit_mode(str mode) -> ()", &setJitModeOp);
  m.def("get_jit_mode() -> str", [] { return ssprop::getJit(); });
  m.def("set_verify(bool verify) -> ()",
        [](bool verify) { ssprop::setVerify(verify); });
  m.def("is_verifying() -> bool", [] { return ssprop::isVerifying(); });
  m.def("wait_for_compiles() -> ()", [] { ssprop::waitForCompiles(); });
  m.def("_stop_compiles() -> ()", [] { ssprop::stopCompiles(); });
  m.def("_corrupt_tactic(str? name) -> ()", &corruptTacticOp);
}
