// service::place_bet, settle_match and bet_lock_key against fakes of the
// ports (service/test_fakes.hpp): the lock, the contract's order of checks,
// the price the domain computes, repricing, and the invalidations.
#include "service/bets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "domain/payout.hpp"
#include "service/test_fakes.hpp"
#include "service/test_support.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;
using domain::ItemProblem;
using domain::Money;
using domain::Selection;
using test_support::FailsWith;
using test_support::kEmail;
using test_support::kPricingAttempts;
using test_support::kUser;
using test_support::kUserBetsGeneration;

constexpr std::int64_t kMatch = 42;

PlaceBet bet_on(std::int64_t match_id, Selection selection = Selection::home,
                std::int64_t stake = 1000) {
  return PlaceBet{kUser, match_id, selection, Money(stake), {}};
}

class PlaceBetTest : public ::testing::Test {
 protected:
  PlaceBetTest() : f(/*with_cache=*/true) {
    f.users->add(kUser, kEmail, 100'000);
    f.matches->matches[kMatch] = open_match(kMatch);
  }

  Result<domain::Bet> place(PlaceBet request) { return f.run(place_bet(f.ctx, request)); }
  domain::Match& match() { return f.matches->matches.at(kMatch); }
  std::string lock_key() { return bet_lock_key(kUser, match()); }
  // The lock was taken once, released once, and is free now.
  void expect_lock_taken_and_released() {
    ASSERT_EQ(f.locks->try_locks.size(), 1u);
    EXPECT_EQ(f.locks->try_locks[0].key, lock_key());
    EXPECT_EQ(f.locks->unlocks_of(lock_key()), 1u);
    EXPECT_FALSE(f.redis->holds(lock_key())) << "the bet lock was left held";
  }

  Fakes f;
};

// ------------------------------------------------------------ the lock

TEST_F(PlaceBetTest, TakesTheUsersLockOnTheMatchAndPlacesUnderIt) {
  bool held_while_placing = false;
  f.bets->on_place = [&](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    held_while_placing = f.redis->holds(lock_key());
    return FakeBetStore::placed(call, kEmail);
  };
  auto bet = place(bet_on(kMatch));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  ASSERT_EQ(f.locks->try_locks.size(), 1u);
  EXPECT_EQ(f.locks->try_locks[0].key, "bet:7:Arsenal:Chelsea:2026-06-08T12:00:00Z");
  EXPECT_EQ(f.locks->try_locks[0].ttl, kBetLockTtl);
  EXPECT_TRUE(held_while_placing);
  expect_lock_taken_and_released();
  EXPECT_EQ(f.ctx.counters->service.bet_lock_acquired.load(), 1u);
  EXPECT_EQ(f.ctx.counters->service.bets_placed.load(), 1u);
}

TEST_F(PlaceBetTest, ReleasesTheLockWhenTheBalanceFallsShort) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return FakeBetStore::refused({ItemProblem::none});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::insufficient_funds));
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, ReleasesTheLockOnADatabaseError) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return database_down();
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::service_unavailable));
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, ReleasesTheLockWhenTheBetStoreThrows) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    throw FakeFailure("the bet store threw");
  };
  EXPECT_THROW((void)place(bet_on(kMatch)), FakeFailure);
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, ALockHeldByAnotherPlacementIs409BetInProgressAndPlacesNothing) {
  f.redis->values[lock_key()] = "another request's token";
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::bet_in_progress));
  EXPECT_TRUE(f.bets->place_calls.empty());
  EXPECT_EQ(f.redis->value(lock_key()), "another request's token") << "someone else's lock touched";
  EXPECT_TRUE(f.locks->unlocks.empty());
  EXPECT_EQ(f.ctx.counters->service.bet_lock_conflict.load(), 1u);
}

TEST_F(PlaceBetTest, WithoutRedisTheBetIsPlacedOnTheDatabasesGuards) {
  f.locks->unavailable = true;
  auto bet = place(bet_on(kMatch));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  EXPECT_EQ(f.bets->place_calls.size(), 1u);
  EXPECT_EQ(f.ctx.counters->service.bet_lock_unavailable.load(), 1u);
  EXPECT_TRUE(f.locks->unlocks.empty()) << "nothing was taken, so nothing to release";
}

// ------------------------------------------------------------ what is placed

TEST_F(PlaceBetTest, TheItemCarriesTheOddsAndPayoutTheDomainComputesFromTheMatch) {
  match().odds.set(Selection::away, odds(215));
  auto bet = place(bet_on(kMatch, Selection::away, 333));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  ASSERT_EQ(f.bets->place_calls.size(), 1u);
  const auto& call = f.bets->place_calls[0];
  EXPECT_EQ(call.user_id, kUser);
  ASSERT_EQ(call.items.size(), 1u);
  const domain::BetItem& item = call.items[0];
  EXPECT_EQ(item.match_id, kMatch);
  EXPECT_EQ(item.selection, Selection::away);
  EXPECT_EQ(item.stake, Money(333));
  EXPECT_EQ(item.odds, odds(215));
  auto payout = domain::potential_payout(Money(333), odds(215));
  ASSERT_TRUE(payout.ok());
  EXPECT_EQ(item.potential_payout, *payout);
  EXPECT_EQ(item.potential_payout, Money(715));  // floor(333 * 2.15) = floor(715.95)
  EXPECT_EQ(bet->odds, odds(215));
  EXPECT_EQ(bet->potential_payout, Money(715));
}

TEST_F(PlaceBetTest, RepricedReadsTheMatchAgainAndPlacesAtTheNewOdds) {
  f.bets->on_place = [&](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    if (f.bets->place_calls.size() == 1) {
      match().odds.set(Selection::home, odds(250));  // an operator moved the odds meanwhile
      return FakeBetStore::refused({ItemProblem::repriced});
    }
    return FakeBetStore::placed(call, kEmail);
  };
  auto bet = place(bet_on(kMatch, Selection::home, 1000));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  ASSERT_EQ(f.bets->place_calls.size(), 2u);
  EXPECT_EQ(f.bets->place_calls[0].items[0].odds, odds(210));
  EXPECT_EQ(f.bets->place_calls[0].items[0].potential_payout, Money(2100));
  EXPECT_EQ(f.bets->place_calls[1].items[0].odds, odds(250));
  EXPECT_EQ(f.bets->place_calls[1].items[0].potential_payout, Money(2500));
  EXPECT_EQ(bet->odds, odds(250));
  EXPECT_EQ(f.matches->finds, 2) << "read once, then again after the repricing";
  EXPECT_EQ(f.locks->try_locks.size(), 1u) << "priced again under the same lock";
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, RepricingIsBoundedThenServiceUnavailable) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return FakeBetStore::refused({ItemProblem::repriced});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::service_unavailable));
  EXPECT_EQ(f.bets->place_calls.size(), kPricingAttempts);
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, ARereadThatFindsTheMatchSettledIsMatchClosed) {
  f.bets->on_place = [&](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    match().status = domain::MatchStatus::settled;
    match().result = domain::MatchResult::draw;
    return FakeBetStore::refused({ItemProblem::repriced});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::match_closed));
  EXPECT_EQ(f.bets->place_calls.size(), 1u);
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, ARereadThatFindsTheSelectionWithdrawnIsInvalidSelection) {
  f.bets->on_place = [&](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    match().odds.set(Selection::home, std::nullopt);
    return FakeBetStore::refused({ItemProblem::repriced});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch, Selection::home)), Errc::invalid_selection));
  EXPECT_EQ(f.bets->place_calls.size(), 1u);
  expect_lock_taken_and_released();
}

// ------------------------------------------------------------ the contract's order of checks

TEST_F(PlaceBetTest, AMissingMatchIsMatchNotFoundBeforeAnythingIsLocked) {
  EXPECT_TRUE(FailsWith(place(bet_on(999)), Errc::match_not_found));
  EXPECT_TRUE(f.locks->try_locks.empty());
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(PlaceBetTest, ASelectionNotOfferedIsInvalidSelectionBeforeAnythingIsLocked) {
  match().odds.set(Selection::draw, std::nullopt);
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch, Selection::draw)), Errc::invalid_selection));
  EXPECT_TRUE(f.locks->try_locks.empty());
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(PlaceBetTest, ASettledMatchIsMatchClosedBeforeAnythingIsLocked) {
  match().status = domain::MatchStatus::settled;
  match().result = domain::MatchResult::home;
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::match_closed));
  EXPECT_TRUE(f.locks->try_locks.empty());
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(PlaceBetTest, AMatchAtOrPastKickOffIsMatchClosed) {
  f.now = match().date;  // bets must come strictly before kick-off
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::match_closed));
  EXPECT_TRUE(f.locks->try_locks.empty());
}

TEST_F(PlaceBetTest, InvalidSelectionComesBeforeMatchClosed) {
  match().status = domain::MatchStatus::settled;
  match().result = domain::MatchResult::home;
  match().odds.set(Selection::draw, std::nullopt);
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch, Selection::draw)), Errc::invalid_selection));
}

TEST_F(PlaceBetTest, ARememberedMatchThatWouldRefuseIsReadAgainFirst) {
  domain::Match stale = match();
  stale.odds.set(Selection::home, std::nullopt);  // withdrawn then, offered again since
  f.ctx.match_memory->remember(stale, "");
  auto bet = place(bet_on(kMatch, Selection::home));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  EXPECT_EQ(f.matches->finds, 1);
}

TEST_F(PlaceBetTest, ARememberedMatchThatPassesNeedsNoQuery) {
  f.ctx.match_memory->remember(match(), "");
  auto bet = place(bet_on(kMatch));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  EXPECT_EQ(f.matches->finds, 0);
}

// ------------------------------------------------------------ prices, suspension, limits

PlaceBet priced_bet(domain::Odds seen, domain::PriceChangePolicy policy,
                    std::int64_t stake = 1000) {
  PlaceBet bet = bet_on(kMatch, Selection::home, stake);
  bet.price = domain::PriceRequest{seen, policy};
  return bet;
}

TEST_F(PlaceBetTest, ASuspendedMatchIsMatchSuspendedBeforeAnythingIsLocked) {
  match().status = domain::MatchStatus::suspended;
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::match_suspended));
  EXPECT_TRUE(f.locks->try_locks.empty());
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(PlaceBetTest, MatchClosedComesBeforeMatchSuspended) {
  match().status = domain::MatchStatus::suspended;
  f.now = match().date;
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::match_closed));
}

TEST_F(PlaceBetTest, AMovedPriceUnderNoneIsOddsChangedWithTheCurrentPriceAndVersion) {
  match().odds_version = 5;
  auto bet = place(priced_bet(odds(200), domain::PriceChangePolicy::none));
  ASSERT_TRUE(FailsWith(bet, Errc::odds_changed));
  const auto& extras = bet.error().extras;
  ASSERT_EQ(extras.size(), 2u);
  EXPECT_EQ(extras[0], (std::pair<std::string, std::string>{"current_odds", "2.10"}));
  EXPECT_EQ(extras[1], (std::pair<std::string, std::string>{"odds_version", "5"}));
  EXPECT_TRUE(f.locks->try_locks.empty());
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(PlaceBetTest, ARememberedPriceThatMovedIsReadAgainBeforeRefusing) {
  domain::Match stale = match();
  stale.odds.set(Selection::home, odds(199));  // since moved back to 2.10
  f.ctx.match_memory->remember(stale, "");
  auto bet = place(priced_bet(odds(210), domain::PriceChangePolicy::none));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  EXPECT_EQ(f.matches->finds, 1);
}

TEST_F(PlaceBetTest, BetterPlacesAtAHigherCurrentPrice) {
  auto bet = place(priced_bet(odds(200), domain::PriceChangePolicy::better));
  ASSERT_TRUE(bet.ok()) << bet.error().detail;
  EXPECT_EQ(f.bets->place_calls.at(0).items.at(0).odds, odds(210));
  EXPECT_TRUE(FailsWith(place(priced_bet(odds(220), domain::PriceChangePolicy::better)),
                        Errc::odds_changed));
}

TEST_F(PlaceBetTest, ARepricingToAPriceTheBettorRefusesIsOddsChanged) {
  f.bets->on_place = [&](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    match().odds.set(Selection::home, odds(190));  // moved down while we placed
    return FakeBetStore::refused({ItemProblem::repriced});
  };
  EXPECT_TRUE(FailsWith(place(priced_bet(odds(210), domain::PriceChangePolicy::better)),
                        Errc::odds_changed));
  EXPECT_EQ(f.bets->place_calls.size(), 1u) << "never placed at 1.90";
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, AStakeAboveTheMaximumIsRefusedAfterThePriceCheck) {
  match().limits.max_stake = Money(999);
  auto bet = place(bet_on(kMatch, Selection::home, 1000));
  ASSERT_TRUE(FailsWith(bet, Errc::stake_above_max));
  EXPECT_EQ(bet.error().extras.at(0), (std::pair<std::string, std::string>{"max_stake", "999"}));
  EXPECT_TRUE(f.bets->place_calls.empty());
  EXPECT_TRUE(FailsWith(place(priced_bet(odds(200), domain::PriceChangePolicy::none, 1000)),
                        Errc::odds_changed));
  EXPECT_TRUE(place(bet_on(kMatch, Selection::home, 999)).ok());
}

TEST_F(PlaceBetTest, TheLiabilityRefusalCarriesTheLimit) {
  match().limits.max_liability = Money(50);
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return FakeBetStore::refused({ItemProblem::liability_limit_exceeded});
  };
  auto bet = place(bet_on(kMatch));
  ASSERT_TRUE(FailsWith(bet, Errc::liability_limit_exceeded));
  EXPECT_EQ(bet.error().extras.at(0), (std::pair<std::string, std::string>{"max_liability", "50"}));
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, FundsAreCheckedBeforeTheLiability) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    auto refused = FakeBetStore::refused({ItemProblem::liability_limit_exceeded});
    refused.funds_short = true;
    return refused;
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::insufficient_funds));
}

TEST_F(PlaceBetTest, RefusalsByTradingSafetyAreCountedByReason) {
  auto& counters = f.ctx.counters->service;
  // Each refusal is decided on a fresh read (the remembered match refuses too).
  match().limits.max_stake = Money(1);
  (void)place(bet_on(kMatch));
  match().limits.max_stake.reset();
  match().status = domain::MatchStatus::suspended;
  (void)place(bet_on(kMatch));
  match().status = domain::MatchStatus::open;
  (void)place(priced_bet(odds(200), domain::PriceChangePolicy::none));
  EXPECT_EQ(counters.rejected_match_suspended.load(), 1u);
  EXPECT_EQ(counters.rejected_odds_changed.load(), 1u);
  EXPECT_EQ(counters.rejected_stake_above_max.load(), 1u);
  EXPECT_EQ(counters.rejected_liability.load(), 0u);
}

// ------------------------------------------------------------ duplicates and invalidation

TEST_F(PlaceBetTest, AConflictOnTheOneLiveBetIndexIsDuplicateBet) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return Error::conflict(std::string(kOneLiveBet), "unique violation");
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::duplicate_bet));
  expect_lock_taken_and_released();
}

TEST_F(PlaceBetTest, AConflictOnAnotherConstraintIsNotTakenForADuplicate) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return Error::conflict("some_other_constraint", "unique violation");
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::conflict));
}

TEST_F(PlaceBetTest, APlacedBetInvalidatesTheUsersListsTheBetListAndTheSummary) {
  ASSERT_TRUE(place(bet_on(kMatch)).ok());
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration));
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
}

// The retry of a placement that committed with its answer lost meets its own
// bet: the lists must show it now, as they would have after the first try.
TEST_F(PlaceBetTest, ADuplicateBetStillInvalidatesTheUsersLists) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return FakeBetStore::refused({ItemProblem::duplicate_bet});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::duplicate_bet));
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration))
      << "the bettor's bet lists were not invalidated";
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
}

TEST_F(PlaceBetTest, ADuplicateBetFromAConcurrentCommitStillInvalidatesTheUsersLists) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return Error::conflict(std::string(kOneLiveBet), "unique violation");
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::duplicate_bet));
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration));
}

// Without the email there is no user counter to bump (the user's lists wait
// for their TTL); the lists of all bets and the summary are still refreshed.
TEST_F(PlaceBetTest, ADuplicateOfAnUnknownEmailStillInvalidatesTheAdminsReads) {
  f.users->users.clear();  // the email cannot be looked up
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return FakeBetStore::refused({ItemProblem::duplicate_bet});
  };
  EXPECT_TRUE(FailsWith(place(bet_on(kMatch)), Errc::duplicate_bet));
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
  EXPECT_FALSE(f.cache_store->bumped(kUserBetsGeneration));
}

// ------------------------------------------------------------ settle_match

class SettleMatchTest : public ::testing::Test {
 protected:
  SettleMatchTest() : f(/*with_cache=*/true) {
    f.bets->bettor_emails = {kEmail, "bob@example.com"};
  }

  Result<domain::Settled> settle(domain::MatchResult result) {
    return f.run(settle_match(f.ctx, kMatch, result, std::nullopt));
  }
  void expect_everything_settlement_affects_invalidated() {
    for (const std::string key :
         {"gen:{matches}", "gen:{bets}", "gen:{summary}", "gen:bets_by_email:{ann@example.com}",
          "gen:bets_by_email:{bob@example.com}"}) {
      EXPECT_TRUE(f.cache_store->bumped(key)) << key << " not bumped";
    }
  }

  Fakes f;
};

TEST_F(SettleMatchTest, HandsTheStoreTheDomainsPlanForTheResult) {
  for (auto result : {domain::MatchResult::home, domain::MatchResult::draw,
                      domain::MatchResult::away, domain::MatchResult::void_}) {
    f.bets->settle_calls.clear();
    ASSERT_TRUE(settle(result).ok());
    ASSERT_EQ(f.bets->settle_calls.size(), 1u);
    const auto& call = f.bets->settle_calls[0];
    const domain::SettlementPlan expected = domain::plan_settlement(result);
    EXPECT_EQ(call.match_id, kMatch);
    EXPECT_EQ(call.result, result);
    EXPECT_EQ(call.plan.status, expected.status) << domain::to_string(result);
    EXPECT_EQ(call.plan.credit, expected.credit) << domain::to_string(result);
  }
  // And that plan is the rule: "X" wins draws and pays them out, loses the rest.
  f.bets->settle_calls.clear();
  ASSERT_TRUE(settle(domain::MatchResult::draw).ok());
  const auto& plan = f.bets->settle_calls[0].plan;
  EXPECT_EQ(plan.status[domain::index_of(Selection::draw)], domain::BetStatus::won);
  EXPECT_EQ(plan.credit[domain::index_of(Selection::draw)], domain::Credit::payout);
  EXPECT_EQ(plan.status[domain::index_of(Selection::home)], domain::BetStatus::lost);
  EXPECT_EQ(plan.credit[domain::index_of(Selection::home)], domain::Credit::none);
}

// A settlement whose commit was not confirmed may have happened: the
// operator gets 503, and its bettors' own lists, which nobody named, are
// invalidated once the database says the match is settled with that result.
TEST_F(SettleMatchTest, AnUnknownOutcomeRefreshesTheBettorsListsOnceTheDatabaseTells) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall&) -> Result<domain::SettleOutcome> {
    Error lost = Error::unavailable("the commit was not confirmed");
    lost.outcome_unknown = true;
    return lost;
  };
  f.bets->settled_bettors_unavailable = true;  // the database still away
  f.bets->settled_bettors = {kEmail, "bob@example.com"};
  EXPECT_TRUE(FailsWith(settle(domain::MatchResult::home), Errc::service_unavailable));
  EXPECT_TRUE(f.cache_store->bumped("gen:{matches}"));
  EXPECT_FALSE(f.cache_store->bumped("gen:bets_by_email:{ann@example.com}"));
  ASSERT_TRUE(f.run_until([&] { return f.bets->settled_bettors_asked >= 2; }, 3s))
      << "asked again while the database does not answer";
  f.bets->settled_bettors_unavailable = false;
  ASSERT_TRUE(f.run_until(
      [&] { return f.cache_store->bumped("gen:bets_by_email:{bob@example.com}"); }, 5s));
  expect_everything_settlement_affects_invalidated();
}

// Not settled after all (or with another result): nobody's lists change.
TEST_F(SettleMatchTest, AnUnknownOutcomeThatDidNotCommitRefreshesNoBettor) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall&) -> Result<domain::SettleOutcome> {
    Error lost = Error::unavailable("the commit was not confirmed");
    lost.outcome_unknown = true;
    return lost;
  };
  EXPECT_TRUE(FailsWith(settle(domain::MatchResult::home), Errc::service_unavailable));
  ASSERT_TRUE(f.run_until([&] { return f.bets->settled_bettors_asked == 1; }, 3s));
  EXPECT_FALSE(f.run_until(
      [&] { return f.cache_store->bumped("gen:bets_by_email:{ann@example.com}"); }, 300ms));
}

TEST_F(SettleMatchTest, AMissingMatchIsMatchNotFound) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall&) -> Result<domain::SettleOutcome> {
    return domain::SettleOutcome{domain::SettleProblem::match_not_found, {}, {}};
  };
  EXPECT_TRUE(FailsWith(settle(domain::MatchResult::home), Errc::match_not_found));
}

TEST_F(SettleMatchTest, AnotherResultOfASettledMatchIsAlreadySettled) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall&) -> Result<domain::SettleOutcome> {
    return domain::SettleOutcome{domain::SettleProblem::already_settled, {}, {}};
  };
  EXPECT_TRUE(FailsWith(settle(domain::MatchResult::home), Errc::already_settled));
}

TEST_F(SettleMatchTest, ADatabaseErrorPassesThrough) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall&) -> Result<domain::SettleOutcome> {
    return database_down();
  };
  EXPECT_TRUE(FailsWith(settle(domain::MatchResult::home), Errc::service_unavailable));
}

TEST_F(SettleMatchTest, ASettlementInvalidatesWhatItChanged) {
  auto settled = settle(domain::MatchResult::away);
  ASSERT_TRUE(settled.ok()) << settled.error().detail;
  EXPECT_TRUE(settled->changed);
  expect_everything_settlement_affects_invalidated();
  EXPECT_EQ(f.ctx.counters->service.settlements.load(), 1u);
}

// The same result again may be the retry of a settlement that committed
// without its answer (and its invalidation).
TEST_F(SettleMatchTest, TheSameResultAgainStillInvalidates) {
  f.bets->on_settle = [](const FakeBetStore::SettleCall& call) -> Result<domain::SettleOutcome> {
    domain::SettleOutcome out;
    out.settled.match = open_match(call.match_id);
    out.settled.match.status = domain::MatchStatus::settled;
    out.settled.match.result = call.result;
    out.settled.totals.won = 3;
    out.settled.changed = false;
    out.bettor_emails = {kEmail, "bob@example.com"};
    return out;
  };
  auto settled = settle(domain::MatchResult::away);
  ASSERT_TRUE(settled.ok()) << settled.error().detail;
  EXPECT_FALSE(settled->changed);
  EXPECT_EQ(settled->totals.won, 3);
  expect_everything_settlement_affects_invalidated();
  EXPECT_EQ(f.ctx.counters->service.settlements.load(), 0u) << "a repeat is not a settlement";
}

// ------------------------------------------------------------ bet_lock_key

domain::Match teams(std::string team_1, std::string team_2) {
  return open_match(1, std::move(team_1), std::move(team_2));
}

TEST(BetLockKey, KeepsTheShapeBetUserTeam1Team2Date) {
  EXPECT_EQ(bet_lock_key(7, teams("Arsenal", "Chelsea")),
            "bet:7:Arsenal:Chelsea:2026-06-08T12:00:00Z");
  EXPECT_EQ(bet_lock_key(123, teams("Real Madrid", "Bayern München")),
            "bet:123:Real Madrid:Bayern München:2026-06-08T12:00:00Z");
}

TEST(BetLockKey, PercentEncodesColonsPercentsAndBraces) {
  EXPECT_EQ(bet_lock_key(7, teams("A:B", "C")), "bet:7:A%3AB:C:2026-06-08T12:00:00Z");
  EXPECT_EQ(bet_lock_key(7, teams("100%", "{x}")), "bet:7:100%25:%7Bx%7D:2026-06-08T12:00:00Z");
}

TEST(BetLockKey, TeamNamesWithColonsNoLongerCollide) {
  EXPECT_NE(bet_lock_key(7, teams("A:B", "C")), bet_lock_key(7, teams("A", "B:C")));
  // A name that spells an encoding is not the name it encodes.
  EXPECT_NE(bet_lock_key(7, teams("A%3AB", "C")), bet_lock_key(7, teams("A:B", "C")));
}

TEST(BetLockKey, DistinctMatchesNeverShareAKey) {
  // Every team name of up to three characters over an alphabet that can
  // spell separators and encodings, paired every way: no two pairs share a key.
  const std::string alphabet = "A:%{}3";
  std::vector<std::string> names;
  for (char a : alphabet) {
    names.push_back(std::string(1, a));
    for (char b : alphabet) {
      names.push_back(std::string{a, b});
      for (char c : alphabet) names.push_back(std::string{a, b, c});
    }
  }
  std::set<std::string> keys;
  std::size_t pairs = 0;
  domain::Match match = teams("", "");
  for (const auto& t1 : names) {
    match.team_1 = t1;
    for (const auto& t2 : names) {
      match.team_2 = t2;
      keys.insert(bet_lock_key(7, match));
      ++pairs;
    }
  }
  EXPECT_EQ(keys.size(), pairs);

  // Another date or another user is another key too.
  domain::Match later = teams("A:B", "C");
  later.date += std::chrono::hours(1);
  EXPECT_NE(bet_lock_key(7, later), bet_lock_key(7, teams("A:B", "C")));
  EXPECT_NE(bet_lock_key(7, teams("1:A", "B")), bet_lock_key(71, teams("A", "B")));
}

}  // namespace
}  // namespace betsdb::service
