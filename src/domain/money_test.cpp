#include "domain/money.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::IsValidationError;

constexpr auto kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr auto kInt64Min = std::numeric_limits<std::int64_t>::min();

TEST(Money, DefaultIsZero) {
  EXPECT_EQ(Money().cents(), 0);
}

TEST(Money, ComparesByCents) {
  EXPECT_EQ(Money(5), Money(5));
  EXPECT_NE(Money(5), Money(6));
  EXPECT_LT(Money(-1), Money(0));
  EXPECT_GT(Money(100), Money(99));
  EXPECT_LE(Money(7), Money(7));
}

TEST(Money, PlusAndMinusAreExact) {
  EXPECT_EQ(Money(1050).plus(Money(250)), Money(1300));
  EXPECT_EQ(Money(1050).minus(Money(2000)), Money(-950));
}

TEST(Money, PlusReportsOverflow) {
  EXPECT_EQ(Money(kInt64Max).plus(Money(1)), std::nullopt);
  EXPECT_EQ(Money(kInt64Min).plus(Money(-1)), std::nullopt);
  EXPECT_EQ(Money(kInt64Max - 1).plus(Money(1)), Money(kInt64Max));
}

TEST(Money, MinusReportsOverflow) {
  EXPECT_EQ(Money(kInt64Min).minus(Money(1)), std::nullopt);
  EXPECT_EQ(Money(0).minus(Money(kInt64Min)), std::nullopt);
  EXPECT_EQ(Money(-1).minus(Money(kInt64Max)), Money(kInt64Min));
}

TEST(Stake, AcceptsTheContractRangeInclusive) {
  ASSERT_TRUE(stake_from(1, "stake").ok());
  EXPECT_EQ(stake_from(1, "stake")->cents(), 1);
  ASSERT_TRUE(stake_from(100'000'000, "stake").ok());
  EXPECT_EQ(stake_from(100'000'000, "stake")->cents(), kMaxStake);
}

TEST(Stake, RejectsOutsideTheRangeNamingTheField) {
  constexpr std::string_view kMessage = "must be between 1 and 100000000";
  EXPECT_TRUE(IsValidationError(stake_from(0, "stake"), "stake", kMessage));
  EXPECT_TRUE(IsValidationError(stake_from(-1, "stake"), "stake", kMessage));
  EXPECT_TRUE(IsValidationError(stake_from(100'000'001, "stake"), "stake", kMessage));
  EXPECT_TRUE(IsValidationError(stake_from(kInt64Min, "items.stake"), "items.stake", kMessage));
  EXPECT_TRUE(IsValidationError(stake_from(kInt64Max, "stake"), "stake", kMessage));
}

TEST(Deposit, AcceptsTheContractRangeInclusive) {
  ASSERT_TRUE(deposit_from(1, "amount").ok());
  ASSERT_TRUE(deposit_from(1'000'000'000'000, "amount").ok());
  EXPECT_EQ(deposit_from(1'000'000'000'000, "amount")->cents(), kMaxDeposit);
}

TEST(Deposit, RejectsOutsideTheRangeNamingTheField) {
  constexpr std::string_view kMessage = "must be between 1 and 1000000000000";
  EXPECT_TRUE(IsValidationError(deposit_from(0, "amount"), "amount", kMessage));
  EXPECT_TRUE(IsValidationError(deposit_from(-5, "balance"), "balance", kMessage));
  EXPECT_TRUE(IsValidationError(deposit_from(1'000'000'000'001, "balance"), "balance", kMessage));
}

TEST(MoneyConstants, MatchTheContract) {
  EXPECT_EQ(kMinStake, 1);
  EXPECT_EQ(kMaxStake, 100'000'000);
  EXPECT_EQ(kMinDeposit, 1);
  EXPECT_EQ(kMaxDeposit, 1'000'000'000'000);
}

}  // namespace
}  // namespace betsdb::domain
