// Trading safety as values and rules (API.md Part 2, "Odds versions and
// price changes" and "Limits and exposure"): which price a bettor accepts,
// a match's stake and liability limits, and the book's exposure on a match.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/money.hpp"
#include "domain/odds.hpp"
#include "domain/selection.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

// What a bettor accepts when the price moved from the one they saw.
enum class PriceChangePolicy { none, better, any };

// "none", "better", "any".
std::string_view to_string(PriceChangePolicy policy) noexcept;
std::optional<PriceChangePolicy> parse_price_change_policy(std::string_view text) noexcept;

// The price a bettor asked for: the odds they saw (none: whatever is offered)
// and what they accept if it moved.
struct PriceRequest {
  std::optional<Odds> seen;
  PriceChangePolicy policy = PriceChangePolicy::any;
};

// The price to place at when `current` is offered, or nullopt when the
// bettor does not accept it (odds_changed): equal is always taken, `better`
// takes a strictly higher price, `any` takes every price.
constexpr std::optional<Odds> accepted_price(Odds current, const PriceRequest& request) noexcept {
  if (!request.seen || *request.seen == current) return current;
  switch (request.policy) {
    case PriceChangePolicy::any:
      return current;
    case PriceChangePolicy::better:
      if (current > *request.seen) return current;
      return std::nullopt;
    case PriceChangePolicy::none:
      return std::nullopt;
  }
  return std::nullopt;
}

// Per-match limits set by an operator; nullopt: no limit.
struct MatchLimits {
  std::optional<Money> max_stake;
  std::optional<Money> max_liability;
};

// A limit as sent by a client, validation_failed on `field` when out of range:
// a stake limit within the stake range, a liability limit 1 .. 10^12.
Result<Money> max_stake_from(std::int64_t cents, std::string_view field);
Result<Money> max_liability_from(std::int64_t cents, std::string_view field);

constexpr bool stake_allowed(Money stake, const std::optional<Money>& max_stake) noexcept {
  return !max_stake || stake <= *max_stake;
}

// The book's position on one match over its pending single bets.
struct Exposure {
  std::int64_t bets = 0;
  std::array<Money, 3> stakes{};   // by selection index (index_of)
  std::array<Money, 3> payouts{};  // potential payouts, by selection index

  Money total_stake() const noexcept {
    return Money(stakes[0].cents() + stakes[1].cents() + stakes[2].cents());
  }
  // What the book would lose if `outcome` happened (negative: it would win).
  std::int64_t liability(Selection outcome) const noexcept {
    return payouts[index_of(outcome)].cents() - total_stake().cents();
  }
  // The largest of the three liabilities.
  std::int64_t worst_liability() const noexcept;
};

}  // namespace betsdb::domain
