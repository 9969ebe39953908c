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
    {Refusal::duplicate_bet, Errc::duplicate_bet,
     "You already have a bet on this selection of this match."},
};

}  // namespace

std::optional<Refusal> bettable_refusal(const domain::Match& match, domain::Selection selection,
                                        domain::Timestamp now) {
  if (!match.odds.offered(selection)) return Refusal::invalid_selection;
  if (!domain::open_for_betting(match.status, match.date, now)) return Refusal::match_closed;
  return std::nullopt;
}

Status check_bettable(const domain::Match& match, domain::Selection selection,
                      domain::Timestamp now) {
  const auto refusal = bettable_refusal(match, selection, now);
  if (!refusal) return {};
  const std::optional<Refusal> one[] = {refusal};
  return refusal_error(one, {});
}

std::optional<Refusal> refusal_of(domain::ItemProblem problem) {
  switch (problem) {
    case domain::ItemProblem::match_not_found:
      return Refusal::match_not_found;
    case domain::ItemProblem::duplicate_bet:
      return Refusal::duplicate_bet;
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

Async<domain::Match> bettable_match(Context& ctx, std::int64_t match_id,
                                    domain::Selection selection) {
  if (const MatchMemory::Entry* known = ctx.match_memory->find(match_id)) {
    if (!bettable_refusal(known->match, selection, ctx.now())) {
      count(ctx.counters->service.match_memory_hits);
      co_return known->match;
    }
  }
  auto match = co_await read_match(ctx, match_id);
  if (!match.ok()) co_return std::move(match).error();
  if (auto s = check_bettable(*match, selection, ctx.now()); !s.ok()) co_return s.error();
  co_return std::move(*match);
}

Result<domain::BetItem> priced_item(const domain::Match& match, domain::Selection selection,
                                    domain::Money stake) {
  const std::optional<domain::Odds> odds = match.odds.get(selection);
  if (!odds) return Error::internal("priced_item: the match does not offer the selection");
  auto payout = domain::potential_payout(stake, *odds);
  if (!payout.ok()) return std::move(payout).error();
  return domain::BetItem{match.id, selection, stake, *odds, *payout};
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

}  // namespace betsdb::service
