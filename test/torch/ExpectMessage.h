//===- ExpectMessage.h - exact error messages in the bridge tests -*- C++ -*-===//

#ifndef SSPROP_TEST_TORCH_EXPECTMESSAGE_H
#define SSPROP_TEST_TORCH_EXPECTMESSAGE_H

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace ssprop::test {

/// Runs `f`, which must throw a c10::Error whose message is exactly `want`.
inline void expectMessage(const std::function<void()> &f,
                          const std::string &want) {
  try {
    f();
  } catch (const c10::Error &e) {
    EXPECT_EQ(e.msg(), want);
    return;
  }
  ADD_FAILURE() << "no error; expected: " << want;
}

} // namespace ssprop::test

#endif // SSPROP_TEST_TORCH_EXPECTMESSAGE_H
