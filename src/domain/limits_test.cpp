#include "domain/limits.hpp"

#include <gtest/gtest.h>

#include <string>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::IsValidationError;

TEST(LimitPeriod, ParsesItsNamesOnly) {
  for (LimitPeriod period : kLimitPeriods) EXPECT_EQ(parse_limit_period(to_string(period)), period);
  EXPECT_EQ(parse_limit_period("year"), std::nullopt);
  EXPECT_EQ(parse_limit_period("Day"), std::nullopt);
}

TEST(LimitAmount, TakesZeroUpToTheLargestDeposit) {
  EXPECT_EQ(limit_from(0, "stake.day")->cents(), 0);
  EXPECT_EQ(limit_from(kMaxDeposit, "stake.day")->cents(), kMaxDeposit);
  constexpr std::string_view kMessage = "must be between 0 and 1000000000000 or null";
  EXPECT_TRUE(IsValidationError(limit_from(-1, "stake.day"), "stake.day", kMessage));
  EXPECT_TRUE(
      IsValidationError(limit_from(kMaxDeposit + 1, "deposit.week"), "deposit.week", kMessage));
}

TEST(SelfExclusion, KnowsTheContractsPeriods) {
  EXPECT_EQ(self_exclusion_from("6m", "period")->interval, "6 months");
  EXPECT_EQ(self_exclusion_from("1y", "period")->interval, "1 year");
  EXPECT_EQ(self_exclusion_from("5y", "period")->interval, "5 years");
  EXPECT_EQ(self_exclusion_from("5y", "period")->kind, PauseKind::self_exclusion);
  EXPECT_TRUE(IsValidationError(self_exclusion_from("3m", "period"), "period",
                                "must be one of \"6m\", \"1y\", \"5y\""));
  EXPECT_FALSE(self_exclusion_from("", "period").ok());
}

TEST(Timeout, TakesOneDayToSixWeeks) {
  std::string interval;
  auto shortest = timeout_from(24, "hours", interval);
  ASSERT_TRUE(shortest.ok());
  EXPECT_EQ(shortest->kind, PauseKind::timeout);
  EXPECT_EQ(shortest->interval, "24 hours");
  EXPECT_EQ(timeout_from(1008, "hours", interval)->interval, "1008 hours");
  EXPECT_TRUE(IsValidationError(timeout_from(23, "hours", interval), "hours",
                                "must be between 24 and 1008"));
  EXPECT_FALSE(timeout_from(1009, "hours", interval).ok());
}

}  // namespace
}  // namespace betsdb::domain
