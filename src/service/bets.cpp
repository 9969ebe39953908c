#include "service/bets.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "service/read_cache.hpp"
#include "service/service_metrics.hpp"
#include "store/redis/lock.hpp"

namespace betsdb::service {

namespace {

Error match_not_found(std::int64_t id) {
  return Error::make(Errc::match_not_found, "No match with id " + std::to_string(id) + ".");
}

Error duplicate_bet() {
  return Error::make(Errc::duplicate_bet,
                     "You already have a bet on this selection of this match.");
}

struct ProblemText {
  store::ItemProblem problem;
  Errc code;
  const char* detail;
};

// The contract's order of checks.
constexpr ProblemText kProblemOrder[] = {
    {store::ItemProblem::match_not_found, Errc::match_not_found, "The match does not exist."},
    {store::ItemProblem::invalid_selection, Errc::invalid_selection,
     "The match does not offer this selection."},
    {store::ItemProblem::match_closed, Errc::match_closed, "The match is closed for betting."},
    {store::ItemProblem::duplicate_bet, Errc::duplicate_bet,
     "You already have a bet on this selection of this match."},
};

// Releases the lock without waiting for the answer: the caller's response
// does not depend on it, and a lost release only delays the lock's expiry.
void release_in_background(Context& ctx, redis::LockToken lock) {
  boost::asio::co_spawn(
      ctx.redis->executor(),
      [redis = ctx.redis, lock = std::move(lock)]() -> boost::asio::awaitable<void> {
        auto released = co_await redis::unlock(*redis, lock);
        if (!released.ok()) {
          spdlog::warn("bet lock {} not released ({}); it expires by itself", lock.key,
                       released.error().detail);
        }
      },
      boost::asio::detached);
}

}  // namespace

Status check_bettable(const domain::Match& match, domain::Selection selection,
                      domain::Timestamp now) {
  if (!match.odds.offered(selection)) {
    return Error::make(Errc::invalid_selection, "The match does not offer this selection.");
  }
  if (!domain::open_for_betting(match.status, match.date, now)) {
    return Error::make(Errc::match_closed, "The match is closed for betting.");
  }
  return {};
}

std::string bet_lock_key(std::int64_t user_id, const domain::Match& match) {
  std::string key = "bet:";
  key += std::to_string(user_id);
  key += ':';
  key += match.team_1;
  key += ':';
  key += match.team_2;
  key += ':';
  key += domain::format_rfc3339(match.date);
  return key;
}

Error placement_error(const store::Placement& placement, std::span<const std::int64_t> item_ids) {
  for (const auto& kind : kProblemOrder) {
    std::vector<std::int64_t> named;
    bool any = false;
    for (std::size_t i = 0; i < placement.problems.size(); ++i) {
      if (placement.problems[i] != kind.problem) continue;
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

namespace {

// The match a bet names, checked. A remembered match that passes is enough:
// its teams and date (the lock key) never change and the placing statement
// re-checks odds and status itself. One that fails is read again first, as
// its odds or status may have changed back since.
Async<domain::Match> bettable_match(Context& ctx, std::int64_t match_id,
                                    domain::Selection selection) {
  if (const MatchMemory::Entry* known = ctx.matches->find(match_id)) {
    if (check_bettable(known->match, selection, ctx.now()).ok()) {
      count(service_counters().match_memory_hits);
      co_return known->match;
    }
  }
  count(service_counters().match_memory_misses);
  auto found = co_await store::find_match(*ctx.db, match_id);
  if (!found.ok()) co_return std::move(found).error();
  if (!*found) co_return match_not_found(match_id);
  // Without a generation: as a hint only (service/match_memory.hpp).
  ctx.matches->remember(**found, std::string());
  if (auto s = check_bettable(**found, selection, ctx.now()); !s.ok()) co_return s.error();
  co_return std::move(**found);
}

}  // namespace

Async<domain::Bet> place_bet(Context& ctx, PlaceBet request) {
  auto checked = co_await bettable_match(ctx, request.match_id, request.selection);
  if (!checked.ok()) co_return std::move(checked).error();
  const domain::Match& match = *checked;

  auto lock =
      co_await redis::try_lock(*ctx.redis, bet_lock_key(request.user_id, match), kBetLockTtl);
  auto& counters = service_counters();
  count(!lock.ok() ? counters.bet_lock_unavailable
        : *lock    ? counters.bet_lock_acquired
                   : counters.bet_lock_conflict);
  if (lock.ok() && !*lock) {
    co_return Error::make(Errc::bet_in_progress,
                          "Another bet of yours on this match is being placed; retry shortly.");
  }
  if (!lock.ok()) {
    spdlog::warn("bet lock unavailable ({}); relying on the database guard", lock.error().detail);
  }

  const store::BetItem item{request.match_id, request.selection, request.stake};
  Result<store::Placement> placement = Error::internal("placement did not run");
  try {
    placement = co_await store::place_bets(*ctx.db, request.user_id, std::span(&item, 1));
  } catch (...) {
    if (lock.ok()) release_in_background(ctx, std::move(**lock));
    throw;
  }
  if (lock.ok()) release_in_background(ctx, std::move(**lock));

  if (!placement.ok()) {
    if (placement.error().is(Errc::conflict) &&
        placement.error().constraint == "bets_one_live_per_selection") {
      co_return duplicate_bet();
    }
    co_return std::move(placement).error();
  }
  if (!placement->placed()) co_return placement_error(*placement, {});
  count(counters.bets_placed, placement->bets.size());
  co_await after_bets_placed(ctx, request.user_id, placement->user_email);
  co_return std::move(placement->bets.front());
}

Async<domain::Bet> get_bet(Context& ctx, std::int64_t bet_id) {
  auto bet = co_await store::find_bet(*ctx.db, bet_id);
  if (!bet.ok()) co_return std::move(bet).error();
  if (!*bet) {
    co_return Error::make(Errc::bet_not_found, "No bet with id " + std::to_string(bet_id) + ".");
  }
  co_return std::move(**bet);
}

Async<store::Settled> settle_match(Context& ctx, std::int64_t match_id,
                                   domain::MatchResult result) {
  auto outcome = co_await store::settle_match(*ctx.db, match_id, result);
  if (!outcome.ok()) co_return std::move(outcome).error();
  switch (outcome->problem) {
    case store::SettleProblem::match_not_found:
      co_return match_not_found(match_id);
    case store::SettleProblem::already_settled:
      co_return Error::make(Errc::already_settled,
                            "The match was settled with another result already.");
    case store::SettleProblem::none:
      break;
  }
  if (outcome->settled.changed) {
    count(service_counters().settlements);
    co_await after_settlement(ctx);
  }
  co_return std::move(outcome->settled);
}

}  // namespace betsdb::service
