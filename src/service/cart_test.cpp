// service::checkout and the cart operations against fakes of the ports
// (service/test_fakes.hpp): the checkout guard, the contract's order of item
// errors, all or nothing, repricing, the clean-up after the commit, the
// invalidations, and the expiry refresh of refused operations.
#include "service/cart.hpp"

#include <gtest/gtest.h>

#include <functional>
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

const std::string kGuard = "cart_lock:{7}";

class CartTest : public ::testing::Test {
 protected:
  CartTest() : f(/*with_cache=*/true) {
    f.users->add(kUser, kEmail, 100'000);
    for (std::int64_t id = 1; id <= 4; ++id) f.matches->matches[id] = open_match(id);
  }

  domain::Match& match(std::int64_t id) { return f.matches->matches.at(id); }
  domain::CartItem put(std::int64_t match_id, Selection selection = Selection::home,
                       std::int64_t stake = 1000) {
    return f.carts->put(kUser, match_id, selection, stake);
  }
  Result<CheckoutResult> check_out() {
    return f.run(checkout(f.ctx, kUser, domain::PriceChangePolicy::any));
  }
  void expect_guard_released() {
    EXPECT_FALSE(f.redis->holds(kGuard)) << "the checkout guard was left held";
    EXPECT_EQ(f.locks->unlocks_of(kGuard), 1u);
  }
  void refuse_with(std::vector<ItemProblem> problems) {
    f.bets->on_place = [problems](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
      return FakeBetStore::refused(problems);
    };
  }

  Fakes f;
};

// ------------------------------------------------------------ the guard

TEST_F(CartTest, CheckoutWhileTheGuardIsHeldIs409AndStillRefreshesTheCart) {
  put(1);
  f.redis->values[kGuard] = "another checkout";
  EXPECT_TRUE(FailsWith(check_out(), Errc::checkout_in_progress));
  EXPECT_EQ(f.carts->count("touch"), 1u) << "the cart's expiry was not refreshed";
  EXPECT_EQ(f.carts->refreshes[kUser], 1);
  EXPECT_EQ(f.carts->count("read"), 0u);
  EXPECT_TRUE(f.bets->place_calls.empty());
  EXPECT_EQ(f.redis->value(kGuard), "another checkout") << "someone else's guard touched";
  EXPECT_EQ(f.ctx.counters->service.checkouts_in_progress.load(), 1u);
}

TEST_F(CartTest, TheGuardIsTheCartsOwnKeyForLongerThanACheckout) {
  put(1);
  ASSERT_TRUE(check_out().ok());
  ASSERT_FALSE(f.locks->try_locks.empty());
  EXPECT_EQ(f.locks->try_locks[0].key, checkout_lock_key(kUser));
  EXPECT_EQ(f.locks->try_locks[0].key, kGuard);
  EXPECT_EQ(f.locks->try_locks[0].ttl, kCheckoutLockTtl);
}

TEST_F(CartTest, WithoutRedisACheckoutIsServiceUnavailable) {
  put(1);
  f.locks->unavailable = true;
  EXPECT_TRUE(FailsWith(check_out(), Errc::service_unavailable));
  EXPECT_TRUE(f.bets->place_calls.empty());
}

TEST_F(CartTest, AnEmptyCartIsCartEmptyAndReleasesTheGuard) {
  EXPECT_TRUE(FailsWith(check_out(), Errc::cart_empty));
  EXPECT_TRUE(f.bets->place_calls.empty());
  expect_guard_released();
}

// Every path out of a checkout releases the guard, an exception's included.
TEST(CheckoutGuard, IsReleasedOnEveryPath) {
  struct Path {
    const char* name;
    std::function<void(Fakes&)> arrange;
  };
  const std::vector<Path> paths = {
      {"success", [](Fakes&) {}},
      {"insufficient funds",
       [](Fakes& f) {
         f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
           return FakeBetStore::refused({ItemProblem::none});
         };
       }},
      {"an item error before placing",
       [](Fakes& f) { f.matches->matches.at(1).status = domain::MatchStatus::settled; }},
      {"the database down while placing",
       [](Fakes& f) {
         f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
           return database_down();
         };
       }},
      {"the database down while reading the matches",
       [](Fakes& f) { f.matches->unavailable = true; }},
      {"the cart unreadable", [](Fakes& f) { f.carts->unavailable = true; }},
  };
  for (const auto& path : paths) {
    SCOPED_TRACE(path.name);
    Fakes f;
    f.users->add(kUser, kEmail, 100'000);
    f.matches->matches[1] = open_match(1);
    f.carts->put(kUser, 1, Selection::home, 1000);
    path.arrange(f);
    (void)f.run(checkout(f.ctx, kUser, domain::PriceChangePolicy::any));
    EXPECT_FALSE(f.redis->holds(kGuard));
    EXPECT_EQ(f.locks->unlocks_of(kGuard), 1u);
  }
}

TEST_F(CartTest, TheGuardIsReleasedWhenTheBetStoreThrows) {
  put(1);
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    throw FakeFailure("the bet store threw");
  };
  EXPECT_THROW((void)check_out(), FakeFailure);
  expect_guard_released();
  EXPECT_EQ(f.carts->count("remove_checked_out"), 0u);
}

// ------------------------------------------------------------ all or nothing

TEST_F(CartTest, PlacesEveryItemInOneCallPricedByTheDomain) {
  match(2).odds.set(Selection::away, odds(215));
  put(1, Selection::home, 1000);
  put(2, Selection::away, 333);
  f.bets->on_place = [](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    return FakeBetStore::placed(call, kEmail, 98'667);
  };
  auto result = check_out();
  ASSERT_TRUE(result.ok()) << result.error().detail;
  ASSERT_EQ(f.bets->place_calls.size(), 1u);
  const auto& items = f.bets->place_calls[0].items;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].match_id, 1);
  EXPECT_EQ(items[0].selection, Selection::home);
  EXPECT_EQ(items[0].stake, Money(1000));
  EXPECT_EQ(items[0].odds, odds(210));
  EXPECT_EQ(items[0].potential_payout, Money(2100));
  EXPECT_EQ(items[1].match_id, 2);
  EXPECT_EQ(items[1].odds, odds(215));
  EXPECT_EQ(items[1].potential_payout, *domain::potential_payout(Money(333), odds(215)));
  EXPECT_EQ(items[1].potential_payout, Money(715));
  ASSERT_EQ(result->bets.size(), 2u);
  EXPECT_EQ(result->total_stake, Money(1333));
  EXPECT_EQ(result->balance, Money(98'667));
  EXPECT_EQ(f.ctx.counters->service.checkouts_success.load(), 1u);
  EXPECT_EQ(f.ctx.counters->service.bets_placed.load(), 2u);
  expect_guard_released();
}

TEST_F(CartTest, ItemErrorsComeInTheContractsOrderNamingTheirItems) {
  match(2).odds.set(Selection::draw, std::nullopt);  // withdrawn
  match(3).status = domain::MatchStatus::settled;    // closed
  match(3).result = domain::MatchResult::home;
  const auto missing = put(99);
  const auto withdrawn = put(2, Selection::draw);
  const auto closed = put(3);
  const auto fine = put(4);
  const auto missing_too = put(98);
  const auto closed_by_kick_off = put(1);
  match(1).date = f.now;  // match 1 kicks off now: closed too

  EXPECT_TRUE(
      FailsWith(check_out(), Errc::match_not_found, {missing.item_id, missing_too.item_id}));
  f.carts->carts[kUser] = {withdrawn, closed, fine, closed_by_kick_off};
  EXPECT_TRUE(FailsWith(check_out(), Errc::invalid_selection, {withdrawn.item_id}));
  f.carts->carts[kUser] = {closed, fine, closed_by_kick_off};
  EXPECT_TRUE(
      FailsWith(check_out(), Errc::match_closed, {closed.item_id, closed_by_kick_off.item_id}));
  EXPECT_TRUE(f.bets->place_calls.empty()) << "items refused before placing reached the store";

  f.carts->carts[kUser] = {fine};
  refuse_with({ItemProblem::duplicate_bet});
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet, {fine.item_id}));
  refuse_with({ItemProblem::none});
  EXPECT_TRUE(FailsWith(check_out(), Errc::insufficient_funds));
  EXPECT_EQ(f.carts->count("remove_checked_out"), 0u);
  EXPECT_EQ(f.carts->carts[kUser].size(), 1u) << "a refused checkout changed the cart";
}

TEST_F(CartTest, ThePlacementsProblemsComeInTheContractsOrderToo) {
  const auto first = put(1);
  const auto second = put(2);
  const auto third = put(3);
  refuse_with({ItemProblem::duplicate_bet, ItemProblem::match_not_found, ItemProblem::none});
  EXPECT_TRUE(FailsWith(check_out(), Errc::match_not_found, {second.item_id}));
  refuse_with({ItemProblem::duplicate_bet, ItemProblem::none, ItemProblem::duplicate_bet});
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet, {first.item_id, third.item_id}));
}

TEST_F(CartTest, TheSameSelectionTwiceInTheCartIsDuplicateBetBeforePlacing) {
  put(1, Selection::home);
  const auto again = put(1, Selection::home);  // only a hand-written cart can hold this
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet, {again.item_id}));
  EXPECT_TRUE(f.bets->place_calls.empty());
}

// ------------------------------------------------------------ repricing

TEST_F(CartTest, RepricedItemsAreReadAgainAndTheCartPlacedAtTheNewOdds) {
  put(1, Selection::home, 1000);
  put(2, Selection::away, 1000);
  f.bets->on_place = [&](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    if (f.bets->place_calls.size() == 1) {
      match(2).odds.set(Selection::away, odds(400));
      return FakeBetStore::refused({ItemProblem::none, ItemProblem::repriced});
    }
    return FakeBetStore::placed(call, kEmail);
  };
  auto result = check_out();
  ASSERT_TRUE(result.ok()) << result.error().detail;
  ASSERT_EQ(f.bets->place_calls.size(), 2u);
  EXPECT_EQ(f.bets->place_calls[0].items[1].odds, odds(360));
  EXPECT_EQ(f.bets->place_calls[1].items[0].odds, odds(210));
  EXPECT_EQ(f.bets->place_calls[1].items[1].odds, odds(400));
  EXPECT_EQ(f.bets->place_calls[1].items[1].potential_payout, Money(4000));
  EXPECT_EQ(f.matches->find_manys, 2) << "read once, then the repriced match again";
  EXPECT_EQ(f.carts->count("remove_checked_out"), 1u);
  expect_guard_released();
}

TEST_F(CartTest, RepricingIsBoundedThenServiceUnavailable) {
  put(1);
  refuse_with({ItemProblem::repriced});
  EXPECT_TRUE(FailsWith(check_out(), Errc::service_unavailable));
  EXPECT_EQ(f.bets->place_calls.size(), kPricingAttempts);
  EXPECT_EQ(f.carts->count("remove_checked_out"), 0u);
  expect_guard_released();
}

TEST_F(CartTest, ARereadThatFindsTheMatchClosedNamesTheItem) {
  put(1);
  const auto second = put(2);
  f.bets->on_place = [&](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    match(2).status = domain::MatchStatus::settled;
    match(2).result = domain::MatchResult::void_;
    return FakeBetStore::refused({ItemProblem::none, ItemProblem::repriced});
  };
  EXPECT_TRUE(FailsWith(check_out(), Errc::match_closed, {second.item_id}));
  EXPECT_EQ(f.bets->place_calls.size(), 1u);
}

// ------------------------------------------------------------ after the commit

TEST_F(CartTest, TheCheckedOutItemsLeaveTheCartOnlyAfterTheirPlacement) {
  const auto first = put(1);
  const auto second = put(2);
  std::size_t removals_before_placing = 99;
  domain::CartItem added_meanwhile;
  f.bets->on_place = [&](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    removals_before_placing = f.carts->count("remove_checked_out");
    added_meanwhile = f.carts->put(kUser, 3, Selection::draw, 500);  // added during the checkout
    return FakeBetStore::placed(call, kEmail);
  };
  ASSERT_TRUE(check_out().ok());
  EXPECT_EQ(removals_before_placing, 0u);
  ASSERT_EQ(f.carts->removed_checked_out.size(), 1u);
  const auto& removed = f.carts->removed_checked_out[0];
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].item_id, first.item_id);
  EXPECT_EQ(removed[0].stored, first.stored);
  EXPECT_EQ(removed[1].item_id, second.item_id);
  ASSERT_EQ(f.carts->carts[kUser].size(), 1u);
  EXPECT_EQ(f.carts->carts[kUser][0].item_id, added_meanwhile.item_id);
}

TEST_F(CartTest, NothingLeavesTheCartWhenNothingWasPlaced) {
  put(1);
  refuse_with({ItemProblem::none});
  EXPECT_TRUE(FailsWith(check_out(), Errc::insufficient_funds));
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return database_down();
  };
  EXPECT_TRUE(FailsWith(check_out(), Errc::service_unavailable));
  EXPECT_EQ(f.carts->count("remove_checked_out"), 0u);
  EXPECT_EQ(f.carts->carts[kUser].size(), 1u);
}

TEST_F(CartTest, ACartCleanUpThatFailsAfterTheCommitStillAnswersTheBets) {
  put(1);
  f.bets->on_place = [&](const FakeBetStore::PlaceCall& call) -> Result<domain::Placement> {
    f.carts->unavailable = true;  // Redis goes away between the commit and the clean-up
    return FakeBetStore::placed(call, kEmail);
  };
  auto result = check_out();
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->bets.size(), 1u);
}

TEST_F(CartTest, ASuccessfulCheckoutInvalidatesTheUsersLists) {
  put(1);
  ASSERT_TRUE(check_out().ok());
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration));
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
}

// Redis did not take the placed items out of the cart when the checkout
// answered: they leave it later, once Redis takes the removal; left in,
// every later checkout of the cart would be a duplicate_bet.
TEST_F(CartTest, PlacedItemsThatRedisDidNotRemoveLeaveTheCartLater) {
  put(1);
  put(2);
  f.carts->failing_removals = 2;
  ASSERT_TRUE(check_out().ok());
  ASSERT_FALSE(f.carts->carts[kUser].empty()) << "the first removal was to fail";
  ASSERT_TRUE(f.run_until([&] { return f.carts->carts[kUser].empty(); }))
      << "the placed items stayed in the cart";
  EXPECT_EQ(f.carts->count("remove_checked_out"), 3u);
}

// A retry of a checkout that committed with its answer lost meets its own
// bets: the lists must show them now, as after the first try.
TEST_F(CartTest, ADuplicateBetStillInvalidatesTheUsersLists) {
  put(1);
  const auto second = put(2);
  refuse_with({ItemProblem::none, ItemProblem::duplicate_bet});
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet, {second.item_id}));
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration))
      << "the bettor's bet lists were not invalidated";
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
}

TEST_F(CartTest, AUniqueViolationIsRetriedOnceAndItsDuplicateNamed) {
  put(1);
  const auto second = put(2);
  f.bets->on_place = [&](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    if (f.bets->place_calls.size() == 1) {
      return Error::conflict(std::string(kOneLiveBet), "unique violation");
    }
    return FakeBetStore::refused({ItemProblem::none, ItemProblem::duplicate_bet});
  };
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet, {second.item_id}));
  EXPECT_EQ(f.bets->place_calls.size(), 2u);
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration));
}

TEST_F(CartTest, TwoUniqueViolationsInARowAreDuplicateBet) {
  put(1);
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    return Error::conflict(std::string(kOneLiveBet), "unique violation");
  };
  EXPECT_TRUE(FailsWith(check_out(), Errc::duplicate_bet));
  EXPECT_EQ(f.bets->place_calls.size(), 2u);
  expect_guard_released();
}

// ------------------------------------------------------------ refused operations refresh the
// expiry

TEST_F(CartTest, AddingForAMissingMatchRefreshesTheCart) {
  auto line = f.run(add_to_cart(f.ctx, kUser, AddCartItem{99, Selection::home, Money(100)}));
  EXPECT_TRUE(FailsWith(line, Errc::match_not_found));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->count("add"), 0u);
}

TEST_F(CartTest, AddingOnAClosedMatchRefreshesTheCart) {
  match(1).status = domain::MatchStatus::settled;
  match(1).result = domain::MatchResult::home;
  auto line = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::home, Money(100)}));
  EXPECT_TRUE(FailsWith(line, Errc::match_closed));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->count("add"), 0u);
}

TEST_F(CartTest, AddingASelectionNotOfferedRefreshesTheCart) {
  match(1).odds.set(Selection::draw, std::nullopt);
  auto line = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::draw, Money(100)}));
  EXPECT_TRUE(FailsWith(line, Errc::invalid_selection));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->count("add"), 0u);
}

// Redis without the matches' counter (just started, or it lost its data):
// the first add creates it and remembers the match under it, so the next
// add needs no read of the match.
TEST_F(CartTest, AddingWithoutAMatchesCounterCreatesItAndRemembersTheMatch) {
  ASSERT_EQ(f.cache_store->generations.count("gen:{matches}"), 0u);
  auto first = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::home, Money(100)}));
  ASSERT_TRUE(first.ok()) << first.error().detail;
  const MatchMemory::Entry* known = f.ctx.match_memory->find(1);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->generation, std::to_string(f.cache_store->generations["gen:{matches}"]));
  EXPECT_NE(known->generation, "0");

  auto second = f.run(add_to_cart(f.ctx, kUser, AddCartItem{2, Selection::home, Money(100)}));
  ASSERT_TRUE(second.ok()) << second.error().detail;
  EXPECT_EQ(f.ctx.counters->service.match_memory_hits.load(), 0u);
  auto third = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::away, Money(100)}));
  ASSERT_TRUE(third.ok()) << third.error().detail;
  EXPECT_EQ(f.ctx.counters->service.match_memory_hits.load(), 1u);
}

TEST_F(CartTest, AddingARememberedMatchThatClosedSinceRefreshesTheCart) {
  // The shard remembers the match open under the current generation...
  f.cache_store->generations["gen:{matches}"] = 5;
  f.ctx.match_memory->remember(match(1), "5");
  // ...but it was settled through another instance since.
  match(1).status = domain::MatchStatus::settled;
  match(1).result = domain::MatchResult::home;
  f.carts->precondition_holds = false;
  auto line = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::home, Money(100)}));
  EXPECT_TRUE(FailsWith(line, Errc::match_closed));
  EXPECT_GE(f.carts->refreshes[kUser], 1);
}

// The contract's order: the match's checks come before duplicate_item, also
// when the shard's memory of the match is out of date.
TEST_F(CartTest, ADuplicateOnARememberedMatchThatClosedSinceIsMatchClosed) {
  put(1, Selection::home);
  f.cache_store->generations["gen:{matches}"] = 5;
  f.ctx.match_memory->remember(match(1), "5");
  match(1).status = domain::MatchStatus::settled;
  match(1).result = domain::MatchResult::away;
  f.cache_store->generations["gen:{matches}"] = 6;  // the settlement's bump
  f.carts->precondition_holds = false;
  auto line = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::home, Money(100)}));
  EXPECT_TRUE(FailsWith(line, Errc::match_closed));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->carts[kUser].size(), 1u);
}

TEST_F(CartTest, ChangingToAWithdrawnSelectionRefreshesTheCartAndChangesNothing) {
  const auto item = put(1, Selection::home);
  match(1).odds.set(Selection::away, std::nullopt);
  domain::CartItemChange change;
  change.selection = Selection::away;
  auto line = f.run(change_cart_item(f.ctx, kUser, item.item_id, change));
  EXPECT_TRUE(FailsWith(line, Errc::invalid_selection));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->count("change"), 0u);
  EXPECT_EQ(f.carts->carts[kUser][0].selection, Selection::home);
}

TEST_F(CartTest, ChangingAnItemOfAClosedMatchRefreshesTheCart) {
  const auto item = put(1, Selection::home);
  f.now = match(1).date + std::chrono::minutes(1);
  domain::CartItemChange change;
  change.stake = Money(5);
  auto line = f.run(change_cart_item(f.ctx, kUser, item.item_id, change));
  EXPECT_TRUE(FailsWith(line, Errc::match_closed));
  EXPECT_EQ(f.carts->count("touch"), 1u);
  EXPECT_EQ(f.carts->count("change"), 0u);
}

// Refusals the cart store itself decides refresh the expiry in the same call
// (ports/cart_store.hpp): the use case only has to reach the store.
TEST_F(CartTest, RefusalsTheCartStoreDecidesReachTheStore) {
  put(1, Selection::home);
  const int before = f.carts->refreshes[kUser];

  domain::CartItemChange change;
  change.stake = Money(5);
  EXPECT_TRUE(FailsWith(f.run(change_cart_item(f.ctx, kUser, 999, change)), Errc::item_not_found));
  EXPECT_EQ(f.carts->refreshes[kUser], before + 1);

  EXPECT_TRUE(FailsWith(f.run(remove_from_cart(f.ctx, kUser, 999)), Errc::item_not_found));
  EXPECT_EQ(f.carts->refreshes[kUser], before + 2);

  auto duplicate = f.run(add_to_cart(f.ctx, kUser, AddCartItem{1, Selection::home, Money(100)}));
  EXPECT_TRUE(FailsWith(duplicate, Errc::duplicate_item));
  EXPECT_GE(f.carts->refreshes[kUser], before + 3);
  EXPECT_EQ(f.carts->carts[kUser].size(), 1u);
}

}  // namespace
}  // namespace betsdb::service
