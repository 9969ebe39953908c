// Accumulators (API.md Part 2, "Accumulators"): one stake on 2..10 legs of
// distinct matches, paid at the exact product of their odds. Every figure is
// computed in exact integers and rounded down once, at the end.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "domain/entities.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

inline constexpr std::size_t kMinLegs = 2;
inline constexpr std::size_t kMaxLegs = 10;
// The contract's cap on an accumulator's potential payout, in cents.
inline constexpr std::int64_t kMaxPotentialPayout = 10'000'000'000'000;

// An accumulator's price: floor(stake x product of the odds) and the product
// rounded down to hundredths (what the bet shows as its odds).
struct AccumulatorPrice {
  Money potential_payout;
  std::int64_t combined_odds_hundredths = 0;
};

// validation_failed on "stake" when the payout would pass kMaxPotentialPayout.
Result<AccumulatorPrice> price_accumulator(Money stake, std::span<const Odds> odds);

// What a finished accumulator pays: floor(stake x product of the won legs'
// odds), void legs counting 1. (The store applies the same rule in SQL.)
Money accumulator_payout(Money stake, std::span<const Leg> legs);

// The status an accumulator takes from its legs' statuses: lost once a leg
// is lost; won when none is pending or lost and one won; void when all are
// void; else pending.
BetStatus accumulator_status(std::span<const Leg> legs) noexcept;

// The set of (match, selection) legs as canonical text, the same whatever
// the order of the legs: "12:1,15:X" (match ids ascending). Two pending
// accumulators of one user may not share it.
std::string legs_key(std::span<const Leg> legs);

}  // namespace betsdb::domain
