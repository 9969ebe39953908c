#include "service/bets.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "service/held_lock.hpp"
#include "service/key_text.hpp"
#include "service/outcome.hpp"
#include "service/placing.hpp"
#include "service/read_cache.hpp"
#include "service/responsible_gambling.hpp"
#include "service/retry_later.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {

// The placement under the lock: priced from `match`, and priced again from a
// fresh read (left in `match`) each time the statement finds the match
// changed meanwhile.
Async<domain::Placement> place_priced(Context& ctx, const PlaceBet& request, const ItemAsk& ask,
                                      domain::Match& match) {
  for (int attempt = 1;; ++attempt) {
    auto item = priced_item(match, ask);
    if (!item.ok()) co_return std::move(item).error();
    Result<domain::Placement> placement =
        co_await ctx.bets->place(request.user_id, std::span(&*item, 1));
    if (!placement.ok() || placement->placed() ||
        placement->problems.front() != domain::ItemProblem::repriced) {
      co_return placement;
    }
    count(ctx.counters->service.match_memory_stale);
    if (attempt == kMaxPricingAttempts) {
      co_return Error::unavailable(
          "The match's odds kept changing while the bet was placed; retry.");
    }
    auto fresh = co_await read_match(ctx, request.match_id);
    if (!fresh.ok()) co_return std::move(fresh).error();
    match = std::move(*fresh);
    if (auto s = check_ask(match, ask, ctx.now()); !s.ok()) co_return s.error();
  }
}

Async<domain::Bet> place_checked(Context& ctx, const PlaceBet& request) {
  const ItemAsk ask{request.selection, request.stake, request.price};
  auto match = co_await bettable_match(ctx, request.match_id, ask);
  if (!match.ok()) co_return std::move(match).error();

  // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
  std::string key = bet_lock_key(request.user_id, *match);
  auto lock = co_await hold_bet_lock(
      ctx, std::move(key), "Another bet of yours on this match is being placed; retry shortly.");
  if (!lock.ok()) co_return std::move(lock).error();
  Result<domain::Placement> placement = co_await place_priced(ctx, request, ask, *match);
  // The lock is released and awaited before answering (the contract's
  // order), so the bettor's next bet on this match, sent on the answer,
  // finds it free. On an exception the destructor releases it in the
  // background.
  if (placement.ok() && placement->placed()) {
    count(ctx.counters->service.bets_placed, placement->bets.size());
    // The lists' generations are bumped before answering too: both go to
    // Redis together, one round trip instead of two.
    using namespace boost::asio::experimental::awaitable_operators;
    auto release = release_if_held(*lock);
    auto invalidate = after_bets_placed(ctx, request.user_id, placement->user_email);
    co_await (std::move(release) && std::move(invalidate));
    co_return std::move(placement->bets.front());
  }
  co_await release_if_held(*lock);

  if (!placement.ok()) {
    if (placement.error().is(Errc::conflict) && placement.error().constraint == kOneLiveBet) {
      domain::Placement duplicate;
      duplicate.problems = {domain::ItemProblem::duplicate_bet};
      placement = std::move(duplicate);
    } else if (placement.error().outcome_unknown) {
      // Perhaps committed: the lists must show it if it was.
      std::string email_unknown;
      co_await after_bets_placed(ctx, request.user_id, std::move(email_unknown));
      co_return unknown_outcome(std::move(placement).error());
    } else {
      co_return std::move(placement).error();
    }
  }
  // Refused. A pause that began on the way is checked first, as the route did.
  if (placement->paused_until) co_return betting_paused(*placement->paused_until);
  std::optional<Refusal> refusal[] = {refusal_of(placement->problems.front())};
  // The bettor's own limits come after the funds, before the liability.
  const bool item_fine = !refusal[0] || refusal[0] == Refusal::liability_limit_exceeded;
  if (item_fine && !placement->funds_short && placement->stake_limit_short) {
    co_return stake_limit_exceeded();
  }
  // Funds are checked before the liability.
  if (refusal[0] == Refusal::liability_limit_exceeded && placement->funds_short) {
    refusal[0] = Refusal::insufficient_funds;
  }
  if (refusal[0] == Refusal::duplicate_bet) {
    // Maybe our own earlier try, committed with its answer lost: the lists
    // must show it now, as they would have after that try.
    std::string email_unknown;
    co_await after_bets_placed(ctx, request.user_id, std::move(email_unknown));
  }
  if (refusal[0] == Refusal::liability_limit_exceeded) {
    // The limit in force is the one the statement compared, perhaps
    // changed since the match was read: name the current one.
    auto fresh = co_await read_match(ctx, request.match_id);
    if (fresh.ok()) *match = std::move(*fresh);
  }
  Error error = refusal_error(refusal, {});
  add_refusal_details(error, *match, request.selection);
  co_return error;
}

}  // namespace

Async<std::optional<HeldLock>> hold_bet_lock(Context& ctx, std::string key,
                                             std::string_view held_detail) {
  auto lock = co_await try_hold(ctx.locks, std::move(key), kBetLockTtl);
  auto& counters = ctx.counters->service;
  if (!lock.ok()) {
    count(counters.bet_lock_unavailable);
    spdlog::warn("bet lock unavailable ({}); relying on the database guard", lock.error().detail);
    co_return std::optional<HeldLock>{};
  }
  if (!*lock) {
    count(counters.bet_lock_conflict);
    co_return Error::make(Errc::bet_in_progress, std::string(held_detail));
  }
  count(counters.bet_lock_acquired);
  co_return std::move(lock).value();
}

std::string bet_lock_key(std::int64_t user_id, const domain::Match& match) {
  std::string key = "bet:";
  key += std::to_string(user_id);
  key += ':';
  append_key_text(key, match.team_1);
  key += ':';
  append_key_text(key, match.team_2);
  key += ':';
  key += domain::format_rfc3339(match.date);
  return key;
}

Async<domain::Bet> place_bet(Context& ctx, PlaceBet request) {
  auto bet = co_await place_checked(ctx, request);
  if (!bet.ok()) count_rejection(ctx, bet.error());
  co_return bet;
}

Async<domain::Bet> get_bet(Context& ctx, std::int64_t bet_id) {
  auto bet = co_await ctx.bets->find(bet_id);
  if (!bet.ok()) co_return std::move(bet).error();
  if (!*bet) {
    co_return Error::make(Errc::bet_not_found, "No bet with id " + std::to_string(bet_id) + ".");
  }
  co_return std::move(**bet);
}

namespace {

// How long the lists of a settlement whose outcome is unknown are waited
// for: well past the cache's TTL, after which they are fresh anyway.
constexpr std::chrono::minutes kUnknownSettlementWatch{10};

// A settlement whose commit was not confirmed may have happened: its
// bettors' own lists would then show their bets pending until the entries
// expire, unless the operator retries (the same result again invalidates as
// the first did). So the database is asked, until it answers, whether the
// match is settled with that result, and if so its bettors' lists are
// invalidated. `ctx` is a copy: it holds the shard's stores alive.
asio::awaitable<void> refresh_bettors_later(Context ctx, std::int64_t match_id,
                                            domain::MatchResult result) {
  std::vector<std::string> bettors;
  const bool answered = co_await retry_later(
      [&]() -> asio::awaitable<bool> {
        auto found = co_await ctx.bets->bettors_if_settled(match_id, result);
        if (!found.ok()) co_return false;
        bettors = std::move(*found);
        co_return true;
      },
      RetryPlan{.give_up_after = kUnknownSettlementWatch});
  if (!answered) {
    spdlog::warn("match {}: whether its settlement committed is still unknown", match_id);
    co_return;
  }
  co_await after_bettors_changed(ctx, bettors);
}

}  // namespace

Async<domain::Settled> settle_match(Context& ctx, std::int64_t match_id, domain::MatchResult result,
                                    const std::optional<domain::Actor>& actor) {
  auto outcome =
      co_await ctx.bets->settle(match_id, result, domain::plan_settlement(result), actor);
  if (!outcome.ok() && outcome.error().outcome_unknown) {
    // The bettors are unknown here: their own lists are refreshed once the
    // database can say whether it committed.
    const std::vector<std::string> bettors_unknown;
    co_await after_settlement(ctx, bettors_unknown);
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, refresh_bettors_later(ctx, match_id, result), asio::detached);
    co_return unknown_outcome(std::move(outcome).error());
  }
  if (!outcome.ok()) co_return std::move(outcome).error();
  switch (outcome->problem) {
    case domain::SettleProblem::match_not_found:
      co_return match_not_found(match_id);
    case domain::SettleProblem::already_settled:
      co_return Error::make(Errc::already_settled,
                            "The match was settled with another result already.");
    case domain::SettleProblem::none:
      break;
  }
  if (outcome->settled.changed) count(ctx.counters->service.settlements);
  // Also when nothing changed: the same result again may be the retry of a
  // settlement that committed without its answer (and its invalidation).
  co_await after_settlement(ctx, outcome->bettor_emails);
  co_return std::move(outcome->settled);
}

}  // namespace betsdb::service
