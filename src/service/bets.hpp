// Use cases for bets: placing one (behind a Redis lock), reading one, and
// settling a match. See docs/api.md "Bets" for the order of checks.
#pragma once

#include <chrono>
#include <span>

#include "domain/entities.hpp"
#include "service/context.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/match_store.hpp"

namespace betsdb::service {

// The lock's expiry. Long enough to outlast the slowest normal placement (a
// pool wait plus one statement, well under a second even under load), so it
// never lapses while its holder still works; short enough that if a holder
// dies without releasing it, the user's retries are refused for 10 s at most.
// Expiry is never a correctness problem: the database is the final guard.
inline constexpr std::chrono::milliseconds kBetLockTtl{10'000};

struct PlaceBet {
  std::int64_t user_id = 0;
  std::int64_t match_id = 0;
  domain::Selection selection = domain::Selection::home;
  domain::Money stake;
};

// match_not_found, invalid_selection, match_closed, bet_in_progress,
// duplicate_bet, insufficient_funds; service_unavailable if PostgreSQL is down.
// If Redis is down the lock is skipped: the database alone keeps it safe.
Async<domain::Bet> place_bet(Context& ctx, PlaceBet request);

// The checks a bet and a cart item share before anything is written
// (API.md, "Bets"): the selection is offered, then the match is open.
Status check_bettable(const domain::Match& match, domain::Selection selection,
                      domain::Timestamp now);

// The Redis key of the duplicate-bet lock for this user and match.
std::string bet_lock_key(std::int64_t user_id, const domain::Match& match);

// bet_not_found.
Async<domain::Bet> get_bet(Context& ctx, std::int64_t bet_id);

// match_not_found, already_settled.
Async<store::Settled> settle_match(Context& ctx, std::int64_t match_id, domain::MatchResult result);

// The contract's error for a placement that placed nothing: the first kind of
// problem in the contract's order (invalid_selection, match_closed,
// duplicate_bet, then insufficient_funds), naming the items that have it when
// `item_ids` is not empty (the cart), parallel to the placement's items.
Error placement_error(const store::Placement& placement, std::span<const std::int64_t> item_ids);

}  // namespace betsdb::service
