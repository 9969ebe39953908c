#include "service/accumulators.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "domain/accumulator.hpp"
#include "service/bets.hpp"
#include "service/held_lock.hpp"
#include "service/outcome.hpp"
#include "service/placing.hpp"
#include "service/read_cache.hpp"
#include "service/responsible_gambling.hpp"

namespace betsdb::service {

namespace {

// The single's checks before the stake limit: offered, open, not suspended,
// a price the bettor accepts.
std::optional<Refusal> leg_refusal(const domain::Match& match, const LegAsk& leg,
                                   domain::Timestamp now) {
  if (auto refusal = bettable_refusal(match, leg.selection, now)) return refusal;
  if (!domain::accepted_price(*match.odds.get(leg.selection), leg.price)) {
    return Refusal::odds_changed;
  }
  return std::nullopt;
}

// Each leg's match as read now (a remembered one if it passes), or the error
// of the first refusal, in the contract's order, across the legs; the error
// names that leg's match.
Async<std::vector<domain::Match>> checked_matches(Context& ctx, const PlaceAccumulator& request,
                                                  bool fresh) {
  std::vector<domain::Match> matches;
  std::vector<std::optional<Refusal>> refusals;
  for (const LegAsk& leg : request.legs) {
    const MatchMemory::Entry* known = fresh ? nullptr : ctx.match_memory->find(leg.match_id);
    if (known && !leg_refusal(known->match, leg, ctx.now())) {
      count(ctx.counters->service.match_memory_hits);
      matches.push_back(known->match);
      refusals.push_back(std::nullopt);
      continue;
    }
    auto match = co_await read_match(ctx, leg.match_id);
    if (!match.ok() && !match.error().is(Errc::match_not_found)) co_return match.error();
    if (!match.ok()) {
      matches.emplace_back();
      refusals.push_back(Refusal::match_not_found);
      continue;
    }
    refusals.push_back(leg_refusal(*match, leg, ctx.now()));
    matches.push_back(std::move(*match));
  }
  for (const auto& kind :
       {Refusal::match_not_found, Refusal::invalid_selection, Refusal::match_closed,
        Refusal::match_suspended, Refusal::odds_changed}) {
    for (std::size_t i = 0; i < refusals.size(); ++i) {
      if (refusals[i] != kind) continue;
      const std::optional<Refusal> one[] = {kind};
      Error error = refusal_error(one, {});
      if (kind == Refusal::match_not_found) co_return match_not_found(request.legs[i].match_id);
      add_refusal_details(error, matches[i], request.legs[i].selection);
      error.extras.emplace_back("match_id", std::to_string(request.legs[i].match_id));
      co_return error;
    }
  }
  co_return matches;
}

// The accumulator priced from `matches`, which passed checked_matches; the
// payout cap, then every leg's stake limit.
Result<domain::AccumulatorItem> priced(const PlaceAccumulator& request,
                                       const std::vector<domain::Match>& matches) {
  domain::AccumulatorItem item;
  item.stake = request.stake;
  std::vector<domain::Odds> odds;
  for (std::size_t i = 0; i < matches.size(); ++i) {
    const LegAsk& ask = request.legs[i];
    const auto taken = domain::accepted_price(*matches[i].odds.get(ask.selection), ask.price);
    if (!taken) return Error::internal("accumulator: a leg's price was not accepted");
    odds.push_back(*taken);
    item.legs.push_back(domain::Leg{ask.match_id, ask.selection, *taken, matches[i].odds_version,
                                    domain::BetStatus::pending});
  }
  auto price = domain::price_accumulator(request.stake, odds);
  if (!price.ok()) return std::move(price).error();
  item.potential_payout = price->potential_payout;
  item.combined_odds_hundredths = price->combined_odds_hundredths;
  item.legs_key = domain::legs_key(item.legs);

  // The smallest limit the stake passes names the refusal.
  const domain::Match* tightest = nullptr;
  for (const domain::Match& match : matches) {
    if (domain::stake_allowed(request.stake, match.limits.max_stake)) continue;
    if (!tightest || *match.limits.max_stake < *tightest->limits.max_stake) tightest = &match;
  }
  if (tightest) {
    Error error = Error::make(Errc::stake_above_max,
                              "The stake is above the maximum one of the matches takes.");
    error.extras.emplace_back("max_stake", std::to_string(tightest->limits.max_stake->cents()));
    error.extras.emplace_back("match_id", std::to_string(tightest->id));
    return error;
  }
  return item;
}

Error duplicate() {
  return Error::make(Errc::duplicate_bet,
                     "You already have a pending accumulator on exactly these selections.");
}

// Places under `lock`; prices again from fresh reads while the statement
// finds a leg's match changed since it was read. Releases the lock once the
// bet is placed; the caller releases it on every other way out.
Async<domain::Bet> place_locked(Context& ctx, const PlaceAccumulator& request,
                                domain::AccumulatorItem item, std::optional<HeldLock>& lock) {
  for (int attempt = 1;; ++attempt) {
    auto placement = co_await ctx.bets->place_accumulator(request.user_id, item);
    if (!placement.ok()) {
      if (placement.error().is(Errc::conflict) &&
          placement.error().constraint == kOnePendingAccumulator) {
        co_return duplicate();
      }
      if (placement.error().outcome_unknown) {
        std::string email_unknown;
        co_await after_bets_placed(ctx, request.user_id, std::move(email_unknown));
        co_return unknown_outcome(std::move(placement).error());
      }
      co_return std::move(placement).error();
    }
    if (placement->bet) {
      count(ctx.counters->service.bets_placed);
      // The lock released and the lists' generations bumped before
      // answering, as for a single: together, one Redis round trip.
      using namespace boost::asio::experimental::awaitable_operators;
      auto release = release_if_held(lock);
      auto invalidate = after_bets_placed(ctx, request.user_id, placement->user_email);
      co_await (std::move(release) && std::move(invalidate));
      co_return std::move(*placement->bet);
    }
    if (placement->paused_until) co_return betting_paused(*placement->paused_until);
    bool repriced = false;
    for (std::size_t i = 0; i < placement->leg_problems.size(); ++i) {
      if (placement->leg_problems[i] == domain::ItemProblem::match_not_found) {
        co_return match_not_found(request.legs[i].match_id);
      }
      if (placement->leg_problems[i] == domain::ItemProblem::repriced) repriced = true;
    }
    if (!repriced) {
      if (placement->duplicate) {
        // Maybe our own earlier try, committed with its answer lost.
        std::string email_unknown;
        co_await after_bets_placed(ctx, request.user_id, std::move(email_unknown));
        co_return duplicate();
      }
      // Funds first, then the bettor's own limits (as for singles).
      if (!placement->funds_short && placement->stake_limit_short) co_return stake_limit_exceeded();
      co_return Error::make(Errc::insufficient_funds, "The balance does not cover the stake.");
    }
    count(ctx.counters->service.match_memory_stale);
    if (attempt == kMaxPricingAttempts) {
      co_return Error::unavailable(
          "The matches' odds kept changing while the accumulator was placed; retry.");
    }
    auto matches = co_await checked_matches(ctx, request, true);
    if (!matches.ok()) co_return std::move(matches).error();
    auto again = priced(request, *matches);
    if (!again.ok()) co_return std::move(again).error();
    if (again->legs_key != item.legs_key) co_return Error::internal("accumulator: legs changed");
    item = std::move(*again);
  }
}

Async<domain::Bet> place_checked(Context& ctx, const PlaceAccumulator& request) {
  auto matches = co_await checked_matches(ctx, request, false);
  if (!matches.ok()) co_return std::move(matches).error();
  auto item = priced(request, *matches);
  if (!item.ok()) co_return std::move(item).error();

  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  std::string key = "bet:" + std::to_string(request.user_id) + ":acca:" + item->legs_key;
  auto lock = co_await hold_bet_lock(
      ctx, std::move(key), "The same accumulator of yours is being placed; retry shortly.");
  if (!lock.ok()) co_return std::move(lock).error();
  auto bet = co_await place_locked(ctx, request, std::move(*item), *lock);
  // Released and awaited before answering, as a single's (a no-op when
  // place_locked released it).
  co_await release_if_held(*lock);
  co_return bet;
}

}  // namespace

Async<domain::Bet> place_accumulator(Context& ctx, PlaceAccumulator request) {
  auto bet = co_await place_checked(ctx, request);
  if (!bet.ok()) count_rejection(ctx, bet.error());
  co_return bet;
}

}  // namespace betsdb::service
