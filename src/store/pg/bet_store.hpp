// SQL for bets: placement (one bet or a whole cart), look-up and settlement.
//
// Placement is ONE statement (one round trip, its own implicit transaction):
// it locks the matches FOR SHARE (so odds changes and settlement serialise
// with it), checks that every item's match is unsettled and still offers the
// odds the item was priced at, and only when all pass and the balance covers
// the total does it debit (conditionally), insert the bets at those odds and
// payouts, and write one `stake` ledger row per bet. The rules themselves
// (open for betting, the payout) are the domain's, applied by the caller
// before; the unique index bets_one_live_per_selection is the last guard
// against duplicates.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/placement.hpp"
#include "domain/settled_match.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

// Places every item or none: each item only while its match is unsettled and
// still offers the item's odds (else `repriced`) and the user has no live bet
// on it (`duplicate_bet`), then only if the balance covers the total. A
// concurrent duplicate surfaces as Errc::conflict with constraint
// "bets_one_live_per_selection". Items must name distinct (match, selection)
// pairs.
Async<domain::Placement> place_bets(pg::Pool& db, std::int64_t user_id,
                                    std::span<const domain::BetItem> items);

Async<std::optional<domain::Bet>> find_bet(pg::Pool& db, std::int64_t bet_id);

// Closes the match with `result` and settles every pending bet of it as
// `plan` says (status and credit by selection), in one transaction with one
// set-based statement for any number of bets. Entering the same result again
// changes nothing and reports the same totals.
// With an actor, the closing is audited in the same transaction.
Async<domain::SettleOutcome> settle_match(pg::Pool& db, std::int64_t match_id,
                                          domain::MatchResult result,
                                          const domain::SettlementPlan& plan,
                                          const std::optional<domain::Actor>& actor);

// The emails of the match's bettors (singles and accumulator legs) if it is
// settled with `result`; none otherwise.
Async<std::vector<std::string>> bettors_if_settled(pg::Pool& db, std::int64_t match_id,
                                                   domain::MatchResult result);

}  // namespace betsdb::store
