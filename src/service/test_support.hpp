// Test-only helpers shared by the service's use-case tests: the bettor they
// place as, and asserting on an error's code (and the cart items it names).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace betsdb::service::test_support {

constexpr std::int64_t kUser = 7;
constexpr const char* kEmail = "ann@example.com";
// The generation counter of kUser's bet lists (the cache's key layout).
inline const std::string kUserBetsGeneration = std::string("gen:bets_by_email:{") + kEmail + "}";
// placing.hpp's kMaxPricingAttempts: how often a placement or a checkout is
// priced in all. A copy, so a change to it shows up here as a failing test.
constexpr std::size_t kPricingAttempts = 4;

// Passes when `result` failed with `code`, naming exactly `item_ids` (the
// cart items at fault; none for a single bet).
template <class T>
::testing::AssertionResult FailsWith(const Result<T>& result, Errc code,
                                     std::vector<std::int64_t> item_ids = {}) {
  if (result.ok()) {
    return ::testing::AssertionFailure() << "succeeded; expected " << code_name(code);
  }
  const Error& e = result.error();
  if (!e.is(code)) {
    return ::testing::AssertionFailure() << "failed with " << code_name(e.code) << " (" << e.detail
                                         << "); expected " << code_name(code);
  }
  if (e.item_ids != item_ids) {
    auto out = ::testing::AssertionFailure() << code_name(code) << " named items [";
    for (auto id : e.item_ids) out << id << ' ';
    out << "], expected [";
    for (auto id : item_ids) out << id << ' ';
    return out << "]";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace betsdb::service::test_support
