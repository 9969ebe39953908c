// The steps a bet and a checkout share (API.md, "Bets" and "Cart"): the
// checks in the contract's order, pricing an item from its match, and the
// error of a placement that placed nothing. Used by bets.cpp and cart.cpp.
//
// Each rule is domain's (domain::open_for_betting, OddsBook::offered,
// domain::potential_payout); the placing statement only re-checks, under
// lock, that the match is unsettled and still offers the odds priced here.
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

// Why an item is refused, in the contract's order of checks.
enum class Refusal { match_not_found, invalid_selection, match_closed, duplicate_bet };

// The refusal of an item the placing statement did not place. `repriced` is
// priced again by the caller first; should one get here, it is as closed.
std::optional<Refusal> refusal_of(domain::ItemProblem problem);

// The checks a bet and a cart item share before anything is written: the
// selection is offered, then the match is open for betting.
std::optional<Refusal> bettable_refusal(const domain::Match& match, domain::Selection selection,
                                        domain::Timestamp now);
// The same as an error (invalid_selection, match_closed).
Status check_bettable(const domain::Match& match, domain::Selection selection,
                      domain::Timestamp now);

Error match_not_found(std::int64_t match_id);

// The match as stored now, remembered as a hint; match_not_found.
Async<domain::Match> read_match(Context& ctx, std::int64_t match_id);

// The match a bet names, checked. A remembered match that passes is used as
// it is: its teams and date (the lock key) never change, and the placing
// statement takes the bet only at the odds priced from it. One that fails is
// read again first, as its odds or status may have changed back since.
Async<domain::Match> bettable_match(Context& ctx, std::int64_t match_id,
                                    domain::Selection selection);

// The item priced from `match`, which offers `selection`: the odds offered
// now, and the payout they promise.
Result<domain::BetItem> priced_item(const domain::Match& match, domain::Selection selection,
                                    domain::Money stake);

// The error for the first kind of refusal, in the contract's order, that any
// item has; it names the items that have it (`item_ids` is parallel to
// `refusals`, or empty for a single bet). insufficient_funds when none has one.
Error refusal_error(std::span<const std::optional<Refusal>> refusals,
                    std::span<const std::int64_t> item_ids);

}  // namespace betsdb::service
