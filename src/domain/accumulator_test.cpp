#include "domain/accumulator.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "domain/cash_out.hpp"
#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::odds;

Leg leg(std::int64_t match_id, Selection selection, std::int64_t hundredths,
        BetStatus status = BetStatus::pending) {
  return Leg{match_id, selection, odds(hundredths), 1, status};
}

TEST(PriceAccumulator, IsTheExactProductRoundedDownOnce) {
  const std::vector<Odds> legs{odds(200), odds(350), odds(125)};
  auto price = price_accumulator(Money(1000), legs);
  ASSERT_TRUE(price.ok());
  EXPECT_EQ(price->potential_payout, Money(8750));
  EXPECT_EQ(price->combined_odds_hundredths, 875);
}

TEST(PriceAccumulator, TenLegsAtTheSmallestOddsKeepEveryDigit) {
  // 1.01^10 = 1.1046221254112045...: no float rounds this the same way twice.
  const std::vector<Odds> legs(10, odds(101));
  auto price = price_accumulator(Money(kMaxStake), legs);
  ASSERT_TRUE(price.ok());
  EXPECT_EQ(price->potential_payout, Money(110'462'212));
  EXPECT_EQ(price->combined_odds_hundredths, 110);
}

TEST(PriceAccumulator, TheCapIsInclusiveAndNothingOverflows) {
  // 10^8 x 1000.00 x 100.00 = 10^13, exactly the cap.
  auto exact = price_accumulator(Money(kMaxStake), std::vector<Odds>{odds(100'000), odds(10'000)});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->potential_payout, Money(10'000'000'000'000));
  EXPECT_EQ(exact->combined_odds_hundredths, 10'000'000);
  // Ten legs at 1000.00: a product of 10^30, far beyond 64 (and 128) bits.
  auto huge = price_accumulator(Money(1), std::vector<Odds>(10, odds(100'000)));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, Errc::validation_failed);
  auto just_over =
      price_accumulator(Money(kMaxStake), std::vector<Odds>{odds(100'000), odds(10'001)});
  EXPECT_FALSE(just_over.ok());
}

TEST(AccumulatorStatus, ALostLegLosesAtOnceEvenWithOthersPending) {
  const std::vector<Leg> legs{leg(1, Selection::home, 200, BetStatus::lost),
                              leg(2, Selection::away, 300)};
  EXPECT_EQ(accumulator_status(legs), BetStatus::lost);
}

TEST(AccumulatorStatus, PendingUntilEveryLegIsResolved) {
  const std::vector<Leg> legs{leg(1, Selection::home, 200, BetStatus::won),
                              leg(2, Selection::away, 300)};
  EXPECT_EQ(accumulator_status(legs), BetStatus::pending);
}

TEST(AccumulatorStatus, WonWithVoidLegsAndVoidWhenAllAreVoid) {
  const std::vector<Leg> mixed{leg(1, Selection::home, 200, BetStatus::won),
                               leg(2, Selection::away, 300, BetStatus::void_)};
  EXPECT_EQ(accumulator_status(mixed), BetStatus::won);
  const std::vector<Leg> all_void{leg(1, Selection::home, 200, BetStatus::void_),
                                  leg(2, Selection::away, 300, BetStatus::void_)};
  EXPECT_EQ(accumulator_status(all_void), BetStatus::void_);
}

TEST(AccumulatorPayout, VoidLegsCountOne) {
  const std::vector<Leg> legs{leg(1, Selection::home, 215, BetStatus::won),
                              leg(2, Selection::away, 300, BetStatus::void_),
                              leg(3, Selection::draw, 333, BetStatus::won)};
  // 1001 x 2.15 x 3.33 = 7166.6595
  EXPECT_EQ(accumulator_payout(Money(1001), legs), Money(7166));
}

TEST(LegsKey, IsTheSameWhateverTheOrder) {
  const std::vector<Leg> a{leg(15, Selection::draw, 200), leg(12, Selection::home, 300)};
  const std::vector<Leg> b{leg(12, Selection::home, 250), leg(15, Selection::draw, 180)};
  EXPECT_EQ(legs_key(a), "12:1,15:X");
  EXPECT_EQ(legs_key(a), legs_key(b));
  const std::vector<Leg> other{leg(12, Selection::home, 300), leg(15, Selection::away, 200)};
  EXPECT_NE(legs_key(a), legs_key(other));
}

TEST(Margin, ParsesFractionsWithAtMostFourDecimals) {
  EXPECT_EQ(Margin::parse("0.05")->basis_points(), 500);
  EXPECT_EQ(Margin::parse("0")->basis_points(), 0);
  EXPECT_EQ(Margin::parse("0.1234")->basis_points(), 1234);
  EXPECT_EQ(Margin{}.basis_points(), 500);
  for (const char* bad : {"", "1", "0.", "0.12345", "5%", "-0.1", "0.0a", "1.0", ".05"}) {
    EXPECT_EQ(Margin::parse(bad), std::nullopt) << bad;
  }
}

TEST(CashOutAmount, ASingleAtAnUnchangedPriceReturnsTheStakeLessTheMargin) {
  const std::vector<CashOutLeg> legs{{odds(210), BetStatus::pending, odds(210)}};
  EXPECT_EQ(cash_out_amount(Money(1000), legs, Margin{}), Money(950));
}

TEST(CashOutAmount, FollowsThePriceAndRoundsDownOnce) {
  // 1000 x 2.10 / 1.75 x 0.95 = 1140 exactly; x 2.00 won leg = 2280.
  const std::vector<CashOutLeg> single{{odds(210), BetStatus::pending, odds(175)}};
  EXPECT_EQ(cash_out_amount(Money(1000), single, Margin{}), Money(1140));
  const std::vector<CashOutLeg> acca{{odds(210), BetStatus::pending, odds(175)},
                                     {odds(200), BetStatus::won, odds(101)},
                                     {odds(500), BetStatus::void_, odds(101)}};
  EXPECT_EQ(cash_out_amount(Money(1000), acca, Margin{}), Money(2280));
  // 333 x 3.00 / 7.00 x 0.9999 = 142.6430...
  const std::vector<CashOutLeg> odd{{odds(300), BetStatus::pending, odds(700)}};
  EXPECT_EQ(cash_out_amount(Money(333), odd, *Margin::parse("0.0001")), Money(142));
}

TEST(CashOutAmount, AtTheExtremesStaysExactAndWithinThePayout) {
  // The largest payout there is (10^13) with both prices at their floor now:
  // 10^8 x 1000.00/1.01 x 100.00/1.01 x 0.95, beyond 64 bits before dividing.
  const std::vector<CashOutLeg> legs{{odds(100'000), BetStatus::pending, odds(101)},
                                     {odds(10'000), BetStatus::pending, odds(101)}};
  EXPECT_EQ(cash_out_amount(Money(kMaxStake), legs, Margin{}), Money(9'312'812'469'365));
  const std::vector<CashOutLeg> down(10, CashOutLeg{odds(101), BetStatus::pending, odds(100'000)});
  EXPECT_EQ(cash_out_amount(Money(kMaxStake), down, Margin{}), Money(0));
}

}  // namespace
}  // namespace betsdb::domain
