// SQL for bets: placement (one bet or a whole cart), look-up and settlement.
//
// Placement is ONE statement (one round trip, its own implicit transaction):
// it locks the matches FOR SHARE (so odds changes and settlement serialise
// with it), re-checks every item, and only when all pass and the balance
// covers the total does it debit (conditionally), insert the bets with the
// odds of that moment and write one `stake` ledger row per bet. The unique
// index bets_one_live_per_selection is the last guard against duplicates.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <span>
#include <vector>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

struct BetItem {
  std::int64_t match_id = 0;
  domain::Selection selection = domain::Selection::home;
  domain::Money stake;
};

// Why an item could not be placed, in the contract's order of checks.
enum class ItemProblem { none, match_not_found, invalid_selection, match_closed, duplicate_bet };

struct Placement {
  // Filled when everything was placed; in the order of the items.
  std::vector<domain::Bet> bets;
  domain::Money balance;  // after the debit
  // The bettor's email (names the cache namespace of their lists), so the
  // caller needs no second query to invalidate them.
  std::string user_email;
  // When nothing was placed: each item's problem (same order as the items), and
  // whether the balance fell short (only meaningful when no item has a problem).
  std::vector<ItemProblem> problems;
  bool insufficient_funds = false;

  bool placed() const { return !bets.empty(); }
};

// Places every item or none. A concurrent duplicate surfaces as
// Errc::conflict with constraint "bets_one_live_per_selection".
// Items must name distinct (match, selection) pairs.
Async<Placement> place_bets(pg::Pool& db, std::int64_t user_id, std::span<const BetItem> items);

Async<std::optional<domain::Bet>> find_bet(pg::Pool& db, std::int64_t bet_id);

struct SettlementTotals {
  std::int64_t won = 0;
  std::int64_t lost = 0;
  std::int64_t voided = 0;
  std::int64_t paid_out = 0;
  std::int64_t refunded = 0;
};

struct Settled {
  domain::Match match;
  SettlementTotals totals;
  bool changed = false;  // false: the match was settled already with the same result
};

enum class SettleProblem { none, match_not_found, already_settled };

struct SettleOutcome {
  SettleProblem problem = SettleProblem::none;
  Settled settled;
};

// Settles every pending bet of the match in one transaction with one
// set-based statement per kind (payouts, losses, refunds). Entering the same
// result again changes nothing and reports the same totals.
Async<SettleOutcome> settle_match(pg::Pool& db, std::int64_t match_id, domain::MatchResult result);

}  // namespace betsdb::store
