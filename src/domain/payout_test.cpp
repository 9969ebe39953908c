#include "domain/payout.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::odds;

std::int64_t payout(std::int64_t stake, std::int64_t hundredths) {
  const auto result = potential_payout(Money(stake), odds(hundredths));
  EXPECT_TRUE(result.ok());
  return result.ok() ? result->cents() : -1;
}

TEST(PotentialPayout, MultipliesExactly) {
  EXPECT_EQ(payout(1000, 210), 2100);
  EXPECT_EQ(payout(1050, 325), 3412);  // 3412.5 -> floor
  EXPECT_EQ(payout(100, 100'000), 100'000);
}

TEST(PotentialPayout, RoundsDown) {
  EXPECT_EQ(payout(333, 150), 499);  // 499.5
  EXPECT_EQ(payout(1, 199), 1);      // 1.99
  EXPECT_EQ(payout(99, 101), 99);    // 99.99
  EXPECT_EQ(payout(7, 333), 23);     // 23.31
}

TEST(PotentialPayout, AtTheContractEdges) {
  EXPECT_EQ(payout(kMinStake, kMinOddsHundredths), 1);                // 1.01
  EXPECT_EQ(payout(kMinStake, kMaxOddsHundredths), 1000);             // 1000.00
  EXPECT_EQ(payout(kMaxStake, kMinOddsHundredths), 101'000'000);      // exact
  EXPECT_EQ(payout(kMaxStake, kMaxOddsHundredths), 100'000'000'000);  // 1e11
  EXPECT_EQ(payout(kMaxStake - 1, kMinOddsHundredths), 100'999'998);  // 100999998.99
}

TEST(PotentialPayout, NeverLessThanTheStakeWithinTheContract) {
  for (std::int64_t stake : {kMinStake, std::int64_t{2}, std::int64_t{99}, std::int64_t{100},
                             std::int64_t{12345}, kMaxStake}) {
    EXPECT_GE(payout(stake, kMinOddsHundredths), stake) << stake;
  }
}

TEST(PotentialPayout, ZeroStakePaysZero) {
  EXPECT_EQ(payout(0, 500), 0);
}

TEST(PotentialPayout, HugeStakeDoesNotOverflowTheProduct) {
  // int64 max * 1.01 does not fit; int64 max / 2 * 1.01 ... neither; the product
  // itself (beyond int64) must still be computed exactly.
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(payout(kMax / 1000, 1000), kMax / 1000 * 10);
  const auto too_big = potential_payout(Money(kMax), odds(101));
  ASSERT_FALSE(too_big.ok());
  EXPECT_TRUE(too_big.error().is(Errc::internal));
}

TEST(PotentialPayout, NegativeStakeIsABug) {
  const auto result = potential_payout(Money(-100), odds(200));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().is(Errc::internal));
}

}  // namespace
}  // namespace betsdb::domain
