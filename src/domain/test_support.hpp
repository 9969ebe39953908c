// Test-only helpers for the domain tests: asserting on validation errors.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "util/result.hpp"

namespace betsdb::domain::test_support {

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
