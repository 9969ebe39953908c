#include "domain/trading.hpp"

#include <gtest/gtest.h>

#include "domain/match.hpp"
#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using namespace std::chrono;

using test_support::odds;

TEST(PriceChangePolicy, WireNamesRoundTrip) {
  for (auto policy : {PriceChangePolicy::none, PriceChangePolicy::better, PriceChangePolicy::any}) {
    EXPECT_EQ(parse_price_change_policy(to_string(policy)), policy);
  }
  for (const char* text : {"", "None", "best", "any "}) {
    EXPECT_EQ(parse_price_change_policy(text), std::nullopt) << text;
  }
}

TEST(AcceptedPrice, WithoutASeenPriceTakesTheCurrentOne) {
  EXPECT_EQ(accepted_price(odds(150), PriceRequest{}), odds(150));
}

TEST(AcceptedPrice, AnEqualPriceIsTakenWhateverThePolicy) {
  for (auto policy : {PriceChangePolicy::none, PriceChangePolicy::better, PriceChangePolicy::any}) {
    EXPECT_EQ(accepted_price(odds(210), PriceRequest{odds(210), policy}), odds(210));
  }
}

TEST(AcceptedPrice, NoneRefusesAnyMove) {
  EXPECT_EQ(accepted_price(odds(211), PriceRequest{odds(210), PriceChangePolicy::none}),
            std::nullopt);
  EXPECT_EQ(accepted_price(odds(209), PriceRequest{odds(210), PriceChangePolicy::none}),
            std::nullopt);
}

TEST(AcceptedPrice, BetterTakesOnlyAStrictlyHigherPrice) {
  EXPECT_EQ(accepted_price(odds(211), PriceRequest{odds(210), PriceChangePolicy::better}),
            odds(211));
  EXPECT_EQ(accepted_price(odds(209), PriceRequest{odds(210), PriceChangePolicy::better}),
            std::nullopt);
}

TEST(AcceptedPrice, AnyTakesTheCurrentPrice) {
  EXPECT_EQ(accepted_price(odds(101), PriceRequest{odds(100'000), PriceChangePolicy::any}),
            odds(101));
}

TEST(Limits, RangesOfTheContract) {
  EXPECT_TRUE(max_stake_from(1, "max_stake").ok());
  EXPECT_TRUE(max_stake_from(100'000'000, "max_stake").ok());
  EXPECT_FALSE(max_stake_from(0, "max_stake").ok());
  EXPECT_FALSE(max_stake_from(100'000'001, "max_stake").ok());
  EXPECT_TRUE(max_liability_from(1'000'000'000'000, "max_liability").ok());
  auto over = max_liability_from(1'000'000'000'001, "max_liability");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field_errors.at(0).field, "max_liability");
  EXPECT_FALSE(max_liability_from(0, "max_liability").ok());
}

TEST(Limits, StakeAllowedUpToTheMaximumInclusive) {
  EXPECT_TRUE(stake_allowed(Money(500), std::nullopt));
  EXPECT_TRUE(stake_allowed(Money(500), Money(500)));
  EXPECT_FALSE(stake_allowed(Money(501), Money(500)));
}

TEST(Exposure, LiabilityIsPayoutsOnTheOutcomeMinusEveryStake) {
  Exposure e;
  e.stakes = {Money(4000), Money(5000), Money(0)};
  e.payouts = {Money(8400), Money(16250), Money(0)};
  EXPECT_EQ(e.total_stake(), Money(9000));
  EXPECT_EQ(e.liability(Selection::home), -600);
  EXPECT_EQ(e.liability(Selection::draw), 7250);
  EXPECT_EQ(e.liability(Selection::away), -9000);
  EXPECT_EQ(e.worst_liability(), 7250);
}

const Timestamp kKickOff = sys_days{2026y / December / 1} + 19h + 45min;

TEST(BettingState, SuspendedBeforeKickOffClosedFromKickOff) {
  EXPECT_EQ(betting_state(MatchStatus::suspended, kKickOff, kKickOff - 1us),
            BettingState::suspended);
  EXPECT_EQ(betting_state(MatchStatus::suspended, kKickOff, kKickOff), BettingState::closed);
  EXPECT_EQ(betting_state(MatchStatus::open, kKickOff, kKickOff - 1us), BettingState::open);
  EXPECT_EQ(betting_state(MatchStatus::settled, kKickOff, kKickOff - 1h), BettingState::closed);
}

TEST(BettingState, ASuspendedMatchIsTradableASettledOneIsNot) {
  EXPECT_TRUE(tradable(MatchStatus::suspended, kKickOff, kKickOff - 1h));
  EXPECT_FALSE(tradable(MatchStatus::settled, kKickOff, kKickOff - 1h));
  EXPECT_FALSE(tradable(MatchStatus::open, kKickOff, kKickOff));
}

}  // namespace
}  // namespace betsdb::domain
