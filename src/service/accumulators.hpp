// Placing an accumulator (docs/api.md, "Accumulators"): the single's checks
// for every leg, the payout cap, the stake limit of every leg's match, then a
// Redis lock on the user's set of legs, and one statement that re-checks the
// prices under lock, refuses a duplicate and debits the stake.
#pragma once

#include <cstdint>
#include <vector>

#include "domain/entities.hpp"
#include "domain/trading.hpp"
#include "service/context.hpp"

namespace betsdb::service {

struct LegAsk {
  std::int64_t match_id = 0;
  domain::Selection selection = domain::Selection::home;
  domain::PriceRequest price;  // the odds the bettor saw for this leg, if any
};

struct PlaceAccumulator {
  std::int64_t user_id = 0;
  std::vector<LegAsk> legs;  // 2..10, distinct matches (checked by the caller)
  domain::Money stake;
};

// match_not_found, invalid_selection, match_closed, match_suspended,
// odds_changed (with the leg's match_id, current_odds, odds_version),
// validation_failed (payout cap), stake_above_max (with max_stake and
// match_id), bet_in_progress, duplicate_bet, insufficient_funds;
// service_unavailable when PostgreSQL is down or the prices kept moving.
Async<domain::Bet> place_accumulator(Context& ctx, PlaceAccumulator request);

}  // namespace betsdb::service
