// Money: an amount in integer minor units (cents), never a binary float, so
// sums, debits and payouts are exact. The contract (API.md, "Money") fixes the
// ranges a client may send; they are named here so every layer agrees.
//
// Thread-safety: a plain value type; distinct objects may be used freely from
// any thread, and const access to one object is safe from many.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace betsdb::domain {

// Stake range of one bet or cart item, in cents (API.md: "Stakes are 1 .. 100000000",
// i.e. 0.01 .. 1,000,000.00). The upper bound keeps stake * max odds far inside int64.
inline constexpr std::int64_t kMinStake = 1;
inline constexpr std::int64_t kMaxStake = 100'000'000;
// Range of a deposit and of an admin's initial balance, in cents
// (API.md: "deposits and initial balances 1 .. 10^12", i.e. up to 10,000,000,000.00).
inline constexpr std::int64_t kMinDeposit = 1;
inline constexpr std::int64_t kMaxDeposit = 1'000'000'000'000;

class Money final {
 public:
  constexpr Money() noexcept = default;  // zero
  constexpr explicit Money(std::int64_t cents) noexcept : cents_(cents) {}

  constexpr std::int64_t cents() const noexcept { return cents_; }

  // Checked arithmetic: std::nullopt when the exact result does not fit int64.
  std::optional<Money> plus(Money other) const noexcept;
  std::optional<Money> minus(Money other) const noexcept;

  friend constexpr auto operator<=>(Money, Money) noexcept = default;

 private:
  std::int64_t cents_ = 0;
};

// A stake as sent by a client: validation_failed on `field` unless
// kMinStake <= cents <= kMaxStake.
Result<Money> stake_from(std::int64_t cents, std::string_view field);
// A deposit or initial balance: validation_failed on `field` unless
// kMinDeposit <= cents <= kMaxDeposit.
Result<Money> deposit_from(std::int64_t cents, std::string_view field);

}  // namespace betsdb::domain
