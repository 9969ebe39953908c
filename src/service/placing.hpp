// The steps a bet and a checkout share (API.md, "Bets" and "Cart", and in
// Part 2 "Odds versions and price changes", "Suspension", "Limits and
// exposure"): the checks in the contract's order, pricing an item from its
// match, and the error of a placement that placed nothing. Used by bets.cpp
// and cart.cpp.
//
// Each rule is domain's (domain::betting_state, OddsBook::offered,
// domain::accepted_price, domain::stake_allowed, domain::potential_payout);
// the placing statement only re-checks, under lock, that the match is still
// open, still offers the odds priced here and still allows the stake, and
// enforces the liability limit.
//
// Thread-safety: as Context (one shard's thread).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "domain/entities.hpp"
#include "domain/placement.hpp"
#include "service/context.hpp"

namespace betsdb::service {

// How often a placement is priced again when the match's odds or status
// changed between reading and placing. Odds are moved by an operator, a few
// times a minute at most, so a second attempt almost always succeeds.
inline constexpr int kMaxPricingAttempts = 4;

// Why an item is refused, in the contract's order of checks (API.md Part 2:
// "match exists, selection offered, open, not suspended, price, max_stake,
// lock, duplicate, funds, stake limit, liability").
enum class Refusal {
  match_not_found,
  invalid_selection,
  match_closed,
  match_suspended,
  odds_changed,
  stake_above_max,
  duplicate_bet,
  insufficient_funds,
  liability_limit_exceeded,
};

// What a bettor asks of one item: its selection, stake and the price they accept.
struct ItemAsk {
  domain::Selection selection = domain::Selection::home;
  domain::Money stake;
  domain::PriceRequest price;
};

// The refusal of an item the placing statement did not place. `repriced` is
// priced again by the caller first; should one get here, it is as closed.
std::optional<Refusal> refusal_of(domain::ItemProblem problem);

// The checks a bet and a cart item share before anything is written: the
// selection is offered, the match is open, not suspended.
std::optional<Refusal> bettable_refusal(const domain::Match& match, domain::Selection selection,
                                        domain::Timestamp now);
// All the checks before the lock, in order: bettable_refusal, then the price
// the bettor accepts, then the match's max_stake.
std::optional<Refusal> ask_refusal(const domain::Match& match, const ItemAsk& ask,
                                   domain::Timestamp now);
// The first as an error (invalid_selection, match_closed, match_suspended,
// odds_changed, stake_above_max), with the problem's extra members.
Status check_ask(const domain::Match& match, const ItemAsk& ask, domain::Timestamp now);

Error match_not_found(std::int64_t match_id);

// The match as stored now, remembered as a hint; match_not_found.
Async<domain::Match> read_match(Context& ctx, std::int64_t match_id);

// The match a bet names, checked. A remembered match that passes is used as
// it is: its teams and date (the lock key) never change, and the placing
// statement takes the bet only at the odds priced from it. One that fails is
// read again first, as its odds or status may have changed back since.
Async<domain::Match> bettable_match(Context& ctx, std::int64_t match_id, const ItemAsk& ask);

// The item priced from `match`, which passes ask_refusal: the price the
// bettor accepts of those offered now, and the payout it promises.
Result<domain::BetItem> priced_item(const domain::Match& match, const ItemAsk& ask);

// The error for the first kind of refusal, in the contract's order, that any
// item has; it names the items that have it (`item_ids` is parallel to
// `refusals`, or empty for a single bet). insufficient_funds when none has one.
Error refusal_error(std::span<const std::optional<Refusal>> refusals,
                    std::span<const std::int64_t> item_ids);

// The problem's extra members for `refusal` of an item on `match`:
// odds_changed's current_odds and odds_version, stake_above_max's max_stake,
// liability_limit_exceeded's max_liability.
void add_refusal_details(Error& error, const domain::Match& match, domain::Selection selection);

// Counts a refusal by trading safety (odds_changed, match_suspended,
// stake_above_max, liability_limit_exceeded) for /metrics; others are not counted.
void count_rejection(Context& ctx, const Error& error);

}  // namespace betsdb::service
