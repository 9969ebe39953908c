#include "domain/payout.hpp"

#include <limits>

namespace betsdb::domain {

namespace {
__extension__ using Int128 = __int128;  // GCC/Clang builtin; __extension__ keeps -pedantic quiet
constexpr Int128 kHundredthsPerUnit = 100;
}  // namespace

Result<Money> potential_payout(Money stake, Odds odds) {
  if (stake.cents() < 0) return Error::internal("potential_payout: negative stake");
  // Both factors are non-negative, so integer division truncates, which is floor.
  const Int128 payout = Int128{stake.cents()} * odds.hundredths() / kHundredthsPerUnit;
  if (payout > std::numeric_limits<std::int64_t>::max()) {
    return Error::internal("potential_payout: payout does not fit in int64");
  }
  return Money(static_cast<std::int64_t>(payout));
}

}  // namespace betsdb::domain
