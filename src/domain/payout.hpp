// The payout of a winning bet: floor(stake * odds), computed exactly in integers
// from the odds' hundredths (API.md: "potential_payout = floor(stake * odds)").
//
// Thread-safety: pure function.
#pragma once

#include "domain/money.hpp"
#include "domain/odds.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

// floor(stake.cents() * odds.hundredths() / 100), the product taken in 128 bits.
// Within the contract's ranges it cannot fail: kMaxStake * kMaxOddsHundredths =
// 1e8 * 1e5 = 1e13, far below INT64_MAX (~9.2e18). A negative stake, or a result
// beyond int64 (only possible with a stake outside the contract's range), is a
// bug in the caller and answers Errc::internal.
Result<Money> potential_payout(Money stake, Odds odds);

}  // namespace betsdb::domain
