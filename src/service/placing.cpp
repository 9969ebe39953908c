#include "service/placing.hpp"

#include <string>

#include "domain/payout.hpp"

namespace betsdb::service {

namespace {

struct RefusalText {
  Refusal refusal;
  Errc code;
  const char* detail;
};

// The contract's order of checks.
constexpr RefusalText kRefusalOrder[] = {
    {Refusal::match_not_found, Errc::match_not_found, "The match does not exist."},
    {Refusal::invalid_selection, Errc::invalid_selection,
     "The match does not offer this selection."},
    {Refusal::match_closed, Errc::match_closed, "The match is closed for betting."},
    {Refusal::match_suspended, Errc::match_suspended,
     "Betting on the match is suspended; try again when it resumes."},
    {Refusal::odds_changed, Errc::odds_changed,
     "The price changed and the new one is not one you accepted."},
    {Refusal::stake_above_max, Errc::stake_above_max,
     "The stake is above the maximum this match takes."},
    {Refusal::duplicate_bet, Errc::duplicate_bet,
     "You already have a bet on this selection of this match."},
    {Refusal::insufficient_funds, Errc::insufficient_funds,
     "The balance does not cover the stake."},
    {Refusal::liability_limit_exceeded, Errc::liability_limit_exceeded,
     "The match cannot take this bet: the book's liability would pass its limit."},
};

std::string cents_text(domain::Money money) {
  return std::to_string(money.cents());
}

}  // namespace

std::optional<Refusal> bettable_refusal(const domain::Match& match, domain::Selection selection,
                                        domain::Timestamp now) {
  if (!match.odds.offered(selection)) return Refusal::invalid_selection;
  switch (domain::betting_state(match.status, match.date, now)) {
    case domain::BettingState::closed:
      return Refusal::match_closed;
    case domain::BettingState::suspended:
      return Refusal::match_suspended;
    case domain::BettingState::open:
      break;
  }
  return std::nullopt;
}

std::optional<Refusal> ask_refusal(const domain::Match& match, const ItemAsk& ask,
                                   domain::Timestamp now) {
  if (auto refusal = bettable_refusal(match, ask.selection, now)) return refusal;
  // Offered: bettable_refusal checked it.
  const domain::Odds current = *match.odds.get(ask.selection);
  if (!domain::accepted_price(current, ask.price)) return Refusal::odds_changed;
  if (!domain::stake_allowed(ask.stake, match.limits.max_stake)) return Refusal::stake_above_max;
  return std::nullopt;
}

Status check_ask(const domain::Match& match, const ItemAsk& ask, domain::Timestamp now) {
  const auto refusal = ask_refusal(match, ask, now);
  if (!refusal) return {};
  const std::optional<Refusal> one[] = {refusal};
  Error error = refusal_error(one, {});
  add_refusal_details(error, match, ask.selection);
  return error;
}

void add_refusal_details(Error& error, const domain::Match& match, domain::Selection selection) {
  if (error.is(Errc::odds_changed)) {
    if (auto odds = match.odds.get(selection)) {
      error.extras.emplace_back("current_odds", odds->to_string());
    }
    error.extras.emplace_back("odds_version", std::to_string(match.odds_version));
  } else if (error.is(Errc::stake_above_max) && match.limits.max_stake) {
    error.extras.emplace_back("max_stake", cents_text(*match.limits.max_stake));
  } else if (error.is(Errc::liability_limit_exceeded) && match.limits.max_liability) {
    error.extras.emplace_back("max_liability", cents_text(*match.limits.max_liability));
  }
}

std::optional<Refusal> refusal_of(domain::ItemProblem problem) {
  switch (problem) {
    case domain::ItemProblem::match_not_found:
      return Refusal::match_not_found;
    case domain::ItemProblem::duplicate_bet:
      return Refusal::duplicate_bet;
    case domain::ItemProblem::liability_limit_exceeded:
      return Refusal::liability_limit_exceeded;
    case domain::ItemProblem::repriced:
      return Refusal::match_closed;
    case domain::ItemProblem::none:
      return std::nullopt;
  }
  return std::nullopt;
}

Error match_not_found(std::int64_t match_id) {
  return Error::make(Errc::match_not_found, "No match with id " + std::to_string(match_id) + ".");
}

Async<domain::Match> read_match(Context& ctx, std::int64_t match_id) {
  count(ctx.counters->service.match_memory_misses);
  auto found = co_await ctx.matches->find(match_id);
  if (!found.ok()) co_return std::move(found).error();
  if (!*found) co_return match_not_found(match_id);
  // Without a generation: a hint only (service/match_memory.hpp).
  ctx.match_memory->remember(**found, std::string());
  co_return std::move(**found);
}

Async<domain::Match> bettable_match(Context& ctx, std::int64_t match_id, const ItemAsk& ask) {
  if (const MatchMemory::Entry* known = ctx.match_memory->find(match_id)) {
    if (!ask_refusal(known->match, ask, ctx.now())) {
      count(ctx.counters->service.match_memory_hits);
      co_return known->match;
    }
  }
  auto match = co_await read_match(ctx, match_id);
  if (!match.ok()) co_return std::move(match).error();
  if (auto s = check_ask(*match, ask, ctx.now()); !s.ok()) co_return s.error();
  co_return std::move(*match);
}

Result<domain::BetItem> priced_item(const domain::Match& match, const ItemAsk& ask) {
  const std::optional<domain::Odds> current = match.odds.get(ask.selection);
  if (!current) return Error::internal("priced_item: the match does not offer the selection");
  const std::optional<domain::Odds> odds = domain::accepted_price(*current, ask.price);
  if (!odds) return Error::internal("priced_item: the bettor does not accept the price");
  auto payout = domain::potential_payout(ask.stake, *odds);
  if (!payout.ok()) return std::move(payout).error();
  return domain::BetItem{match.id, ask.selection, ask.stake, *odds, *payout};
}

Error refusal_error(std::span<const std::optional<Refusal>> refusals,
                    std::span<const std::int64_t> item_ids) {
  for (const auto& kind : kRefusalOrder) {
    std::vector<std::int64_t> named;
    bool any = false;
    for (std::size_t i = 0; i < refusals.size(); ++i) {
      if (refusals[i] != kind.refusal) continue;
      any = true;
      if (i < item_ids.size()) named.push_back(item_ids[i]);
    }
    if (!any) continue;
    Error e = Error::make(kind.code, kind.detail);
    e.item_ids = std::move(named);
    return e;
  }
  return Error::make(Errc::insufficient_funds, "The balance does not cover the stake.");
}

void count_rejection(Context& ctx, const Error& error) {
  auto& counters = ctx.counters->service;
  switch (error.code) {
    case Errc::odds_changed:
      count(counters.rejected_odds_changed);
      break;
    case Errc::match_suspended:
      count(counters.rejected_match_suspended);
      break;
    case Errc::stake_above_max:
      count(counters.rejected_stake_above_max);
      break;
    case Errc::liability_limit_exceeded:
      count(counters.rejected_liability);
      break;
    default:
      break;
  }
}

}  // namespace betsdb::service
