// Test-only helpers for the domain tests: values a test knows are valid, and
// asserting on validation errors.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

#include "domain/odds.hpp"
#include "util/result.hpp"

namespace betsdb::domain::test_support {

// 250 -> 2.50; the test knows its value is valid.
inline Odds odds(std::int64_t hundredths) {
  return *odds_from_hundredths(hundredths, "odds");
}

// Passes when `result` failed with validation_failed carrying exactly one field
// error on `field`; `message` is checked too when not empty.
template <class T>
::testing::AssertionResult IsValidationError(const Result<T>& result, std::string_view field,
                                             std::string_view message = {}) {
  if (result.ok()) return ::testing::AssertionFailure() << "succeeded, expected an error";
  const Error& error = result.error();
  if (!error.is(Errc::validation_failed)) {
    return ::testing::AssertionFailure() << "code " << code_name(error.code);
  }
  if (error.field_errors.size() != 1) {
    return ::testing::AssertionFailure() << error.field_errors.size() << " field errors";
  }
  const FieldError& fe = error.field_errors.front();
  if (fe.field != field) return ::testing::AssertionFailure() << "field " << fe.field;
  if (!message.empty() && fe.message != message) {
    return ::testing::AssertionFailure() << "message \"" << fe.message << "\"";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace betsdb::domain::test_support
