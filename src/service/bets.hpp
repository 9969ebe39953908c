// Use cases for bets: placing one (behind a Redis lock), reading one, and
// settling a match. See docs/api.md "Bets" for the order of checks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/entities.hpp"
#include "domain/settled_match.hpp"
#include "service/context.hpp"
#include "service/held_lock.hpp"

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
  // The odds the bettor saw and what they accept if it moved; by default
  // whatever is offered when the bet is placed.
  domain::PriceRequest price;
};

// match_not_found, invalid_selection, match_closed, match_suspended,
// odds_changed, stake_above_max, bet_in_progress, duplicate_bet,
// insufficient_funds, liability_limit_exceeded; service_unavailable if
// PostgreSQL is down, or if the match's odds changed under every attempt to
// price the bet. The bet is placed at a price the bettor accepted: the
// placing statement takes it only at the odds offered when it runs.
// If Redis is down the lock is skipped: the database alone keeps it safe.
Async<domain::Bet> place_bet(Context& ctx, PlaceBet request);

// The Redis key of the duplicate-bet lock for this user and match:
// bet:{user_id}:{team_1}:{team_2}:{date}, each team name with '%', ':', '{'
// and '}' percent-encoded, so that the ':'s between the parts are the only
// ones and two different matches never share a key.
std::string bet_lock_key(std::int64_t user_id, const domain::Match& match);

// The duplicate-bet lock under `key` (a single's or an accumulator's): held;
// nullopt when Redis did not answer (the database's guards suffice, counted
// and logged); bet_in_progress with `held_detail` when another placement
// holds it.
Async<std::optional<HeldLock>> hold_bet_lock(Context& ctx, std::string key,
                                             std::string_view held_detail);

// bet_not_found.
Async<domain::Bet> get_bet(Context& ctx, std::int64_t bet_id);

// match_not_found, already_settled. Entering the same result again changes
// nothing and answers as the first time did.
// Audited as `actor`'s when the match closes (the importer has none).
Async<domain::Settled> settle_match(Context& ctx, std::int64_t match_id, domain::MatchResult result,
                                    const std::optional<domain::Actor>& actor);

}  // namespace betsdb::service
