// What the use cases need of the stored bets: placement, look-up,
// settlement and the read side.
//
// Errors: service_unavailable when the database cannot answer; conflict
// kOneLiveBet when a concurrent duplicate committed first. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/cash_out.hpp"
#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/placement.hpp"
#include "domain/queries.hpp"
#include "domain/settled_match.hpp"
#include "domain/settlement.hpp"
#include "service/ports/async.hpp"

namespace betsdb::service {

// The unique index that makes a second live bet on one selection impossible.
inline constexpr std::string_view kOneLiveBet = "bets_one_live_per_selection";
// The unique constraint that keeps one pending accumulator per user and set
// of legs. The PostgreSQL store answers a duplicate as one
// (AccumulatorPlacement::duplicate); a store may also fail with it.
inline constexpr std::string_view kOnePendingAccumulator = "bets_one_pending_accumulator";

class BetStore {
 public:
  virtual ~BetStore() = default;

  // Places every item or none, in one transaction: each item only while its
  // match is unsettled and still offers the item's odds (else `repriced`),
  // and the user has no live bet on it (`duplicate_bet`); then debits the
  // total if the balance covers it. Items name distinct (match, selection)
  // pairs.
  virtual Async<domain::Placement> place(std::int64_t user_id,
                                         std::span<const domain::BetItem> items) = 0;
  // Places the accumulator or nothing, in one transaction: only while every
  // leg's match is unsettled and still offers the leg's odds (else that leg
  // is `repriced`), the user has no pending accumulator on the same legs,
  // and the balance covers the stake.
  virtual Async<domain::AccumulatorPlacement> place_accumulator(
      std::int64_t user_id, const domain::AccumulatorItem& item) = 0;
  virtual Async<std::optional<domain::Bet>> find(std::int64_t bet_id) = 0;
  // Cashes the bet out for `order.amount` if it is still pending and none of
  // the quoted legs moved or settled since the quote, in one transaction.
  virtual Async<domain::CashedOut> cash_out(const domain::CashOutOrder& order) = 0;
  // Closes the match with `result` and settles its pending bets as `plan`
  // says, in one transaction. The same result again changes nothing and
  // reports the same totals.
  // Audited as `actor`'s when the match closes.
  virtual Async<domain::SettleOutcome> settle(std::int64_t match_id, domain::MatchResult result,
                                              const domain::SettlementPlan& plan,
                                              const std::optional<domain::Actor>& actor) = 0;
  // The emails of the match's bettors if it is settled with `result`; none
  // otherwise (after a settlement whose outcome is unknown).
  virtual Async<std::vector<std::string>> bettors_if_settled(std::int64_t match_id,
                                                             domain::MatchResult result) = 0;
  virtual Async<domain::ListPage<domain::Bet>> list(const domain::BetFilter& filter,
                                                    domain::Page page) = 0;
  virtual Async<domain::BetSummary> summary() = 0;
};

}  // namespace betsdb::service
