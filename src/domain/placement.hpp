// Placing bets: what is asked (one item per bet; a cart has several) and what
// came of it. Placement is all or nothing: either every item became a bet, or
// none did and each item says why (API.md, "Bets" and "Cart").
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/entities.hpp"

namespace betsdb::domain {

// One bet to place, priced: the odds and payout are those the bettor is
// offered, computed from the match as last read (potential_payout()); the
// placing statement takes them only if the match still offers these odds.
struct BetItem {
  std::int64_t match_id = 0;
  Selection selection = Selection::home;
  Money stake;
  Odds odds;
  Money potential_payout;
};

// Why an item could not be placed, in the contract's order of checks.
// `repriced`: the match changed since it was read (its odds for the item's
// selection, its status or its stake limit); the caller reads it again and
// decides anew. `liability_limit_exceeded`: the item's match would owe more
// than its max_liability on some outcome.
enum class ItemProblem { none, match_not_found, repriced, duplicate_bet, liability_limit_exceeded };

// An accumulator to place, priced: each leg's odds are those taken (as the
// match offered them when read); the statement takes the bet only if every
// leg's match still offers them.
struct AccumulatorItem {
  std::vector<Leg> legs;
  Money stake;
  Money potential_payout;
  std::int64_t combined_odds_hundredths = 0;
  std::string legs_key;
};

// What came of placing an accumulator: the bet, or why not (per leg, in the
// order of the legs; `duplicate` and `funds_short` for the whole bet).
struct AccumulatorPlacement {
  std::optional<Bet> bet;
  Money balance;
  std::string user_email;
  std::vector<ItemProblem> leg_problems;
  bool duplicate = false;
  bool funds_short = false;
  // When nothing was placed, as for Placement.
  bool stake_limit_short = false;
  std::optional<Timestamp> paused_until;
};

struct Placement {
  // Filled when everything was placed; in the order of the items.
  std::vector<Bet> bets;
  Money balance;  // after the debit
  // The bettor's email (names the cache namespace of their lists), so the
  // caller needs no second query to invalidate them.
  std::string user_email;
  // When nothing was placed: each item's problem (same order as the items).
  // With no problem at all, the balance fell short.
  std::vector<ItemProblem> problems;
  // When nothing was placed: whether the balance (as the statement saw it)
  // covered the total, which decides between insufficient_funds and a
  // liability refusal (funds are checked first).
  bool funds_short = false;
  // When nothing was placed: whether the stakes would have passed one of the
  // bettor's stake limits, and until when a self-exclusion or time-out pauses
  // their betting (one that began while this placement was on its way).
  bool stake_limit_short = false;
  std::optional<Timestamp> paused_until;

  bool placed() const { return !bets.empty(); }
};

}  // namespace betsdb::domain
