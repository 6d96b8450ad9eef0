//===- ParamName.h - gtest names from printed parameters --------*- C++ -*-===//
//
// A parameterised suite prints its parameter (PrintTo or operator<<) in
// failure messages and in `--gtest_list_tests`, which CTest shows; the test's
// name is that same text, so the two always read alike.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_PARAMNAME_H
#define SSPROP_TEST_CODEGEN_PARAMNAME_H

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace ssprop::test {

/// The 4th argument of INSTANTIATE_TEST_SUITE_P: the parameter as printed,
/// each character a test name may not hold ('/', '-', ...) replaced by '_'.
struct PrintedParamName {
  template <class Param>
  std::string operator()(const ::testing::TestParamInfo<Param> &info) const {
    std::string name = ::testing::PrintToString(info.param);
    for (char &c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        c = '_';
    return name;
  }
};

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_PARAMNAME_H
