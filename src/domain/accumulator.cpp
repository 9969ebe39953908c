#include "domain/accumulator.hpp"

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <vector>

namespace betsdb::domain {

namespace {

using Big = boost::multiprecision::cpp_int;

// 100^n: the denominator of a product of n odds in hundredths.
Big hundred_to_the(std::size_t n) {
  Big out = 1;
  for (std::size_t i = 0; i < n; ++i) out *= 100;
  return out;
}

}  // namespace

Result<AccumulatorPrice> price_accumulator(Money stake, std::span<const Odds> odds) {
  Big product = 1;
  for (Odds o : odds) product *= o.hundredths();
  const Big payout = Big(stake.cents()) * product / hundred_to_the(odds.size());
  if (payout > kMaxPotentialPayout) {
    return Error::validation("stake", "makes a potential payout above 100000000000.00 (10^13)");
  }
  // payout <= 10^13 and stake >= 1 bound the product: it fits comfortably.
  const Big combined = odds.empty() ? Big(0) : product / hundred_to_the(odds.size() - 1);
  return AccumulatorPrice{Money(payout.convert_to<std::int64_t>()),
                          combined.convert_to<std::int64_t>()};
}

Money accumulator_payout(Money stake, std::span<const Leg> legs) {
  Big product = stake.cents();
  std::size_t won = 0;
  for (const Leg& leg : legs) {
    if (leg.status != BetStatus::won) continue;
    product *= leg.odds.hundredths();
    ++won;
  }
  return Money((product / hundred_to_the(won)).convert_to<std::int64_t>());
}

BetStatus accumulator_status(std::span<const Leg> legs) noexcept {
  bool pending = false;
  bool won = false;
  for (const Leg& leg : legs) {
    switch (leg.status) {
      case BetStatus::lost:
        return BetStatus::lost;
      case BetStatus::pending:
        pending = true;
        break;
      case BetStatus::won:
        won = true;
        break;
      case BetStatus::void_:
      case BetStatus::cashed_out:
        break;
    }
  }
  if (pending) return BetStatus::pending;
  return won ? BetStatus::won : BetStatus::void_;
}

std::string legs_key(std::span<const Leg> legs) {
  std::vector<const Leg*> sorted;
  sorted.reserve(legs.size());
  for (const Leg& leg : legs) sorted.push_back(&leg);
  std::sort(sorted.begin(), sorted.end(),
            [](const Leg* a, const Leg* b) { return a->match_id < b->match_id; });
  std::string key;
  for (const Leg* leg : sorted) {
    if (!key.empty()) key += ',';
    key += std::to_string(leg->match_id);
    key += ':';
    key += to_string(leg->selection);
  }
  return key;
}

}  // namespace betsdb::domain
