#include "domain/money.hpp"

#include <string>

namespace betsdb::domain {

namespace {

Result<Money> in_range(std::int64_t cents, std::int64_t min, std::int64_t max,
                       std::string_view field) {
  if (cents < min || cents > max) {
    return Error::validation(std::string(field), "must be between " + std::to_string(min) +
                                                     " and " + std::to_string(max));
  }
  return Money(cents);
}

}  // namespace

std::optional<Money> Money::plus(Money other) const noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(cents_, other.cents_, &sum)) return std::nullopt;
  return Money(sum);
}

std::optional<Money> Money::minus(Money other) const noexcept {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(cents_, other.cents_, &difference)) return std::nullopt;
  return Money(difference);
}

Result<Money> stake_from(std::int64_t cents, std::string_view field) {
  return in_range(cents, kMinStake, kMaxStake, field);
}

Result<Money> deposit_from(std::int64_t cents, std::string_view field) {
  return in_range(cents, kMinDeposit, kMaxDeposit, field);
}

}  // namespace betsdb::domain
