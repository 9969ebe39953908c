#include "domain/settlement.hpp"

#include <gtest/gtest.h>

namespace betsdb::domain {
namespace {

TEST(MatchResult, WireNamesRoundTrip) {
  EXPECT_EQ(to_string(MatchResult::home), "1");
  EXPECT_EQ(to_string(MatchResult::draw), "X");
  EXPECT_EQ(to_string(MatchResult::away), "2");
  EXPECT_EQ(to_string(MatchResult::void_), "void");
  for (MatchResult r :
       {MatchResult::home, MatchResult::draw, MatchResult::away, MatchResult::void_}) {
    EXPECT_EQ(parse_match_result(to_string(r)), r);
  }
}

TEST(MatchResult, RejectsAnythingElse) {
  for (const char* text : {"", "x", "0", "3", "VOID", "Void", "void_", "home", " 1", "null"}) {
    EXPECT_EQ(parse_match_result(text), std::nullopt) << text;
  }
}

TEST(WinningSelection, IsTheResultUnlessVoid) {
  EXPECT_EQ(winning_selection(MatchResult::home), Selection::home);
  EXPECT_EQ(winning_selection(MatchResult::draw), Selection::draw);
  EXPECT_EQ(winning_selection(MatchResult::away), Selection::away);
  EXPECT_EQ(winning_selection(MatchResult::void_), std::nullopt);
}

struct SettleCase {
  Selection selection;
  MatchResult result;
  BetStatus expected;
};

class Settle : public ::testing::TestWithParam<SettleCase> {};

TEST_P(Settle, FollowsTheContractTable) {
  const SettleCase& c = GetParam();
  EXPECT_EQ(settle(c.selection, c.result), c.expected)
      << to_string(c.selection) << " vs " << to_string(c.result);
}

// Every selection against every result: 12 rows.
INSTANTIATE_TEST_SUITE_P(
    AllPairs, Settle,
    ::testing::Values(SettleCase{Selection::home, MatchResult::home, BetStatus::won},
                      SettleCase{Selection::home, MatchResult::draw, BetStatus::lost},
                      SettleCase{Selection::home, MatchResult::away, BetStatus::lost},
                      SettleCase{Selection::home, MatchResult::void_, BetStatus::void_},
                      SettleCase{Selection::draw, MatchResult::home, BetStatus::lost},
                      SettleCase{Selection::draw, MatchResult::draw, BetStatus::won},
                      SettleCase{Selection::draw, MatchResult::away, BetStatus::lost},
                      SettleCase{Selection::draw, MatchResult::void_, BetStatus::void_},
                      SettleCase{Selection::away, MatchResult::home, BetStatus::lost},
                      SettleCase{Selection::away, MatchResult::draw, BetStatus::lost},
                      SettleCase{Selection::away, MatchResult::away, BetStatus::won},
                      SettleCase{Selection::away, MatchResult::void_, BetStatus::void_}));

TEST(CreditFor, WinnersArePaidVoidsRefundedOthersNothing) {
  EXPECT_EQ(credit_for(BetStatus::won), Credit::payout);
  EXPECT_EQ(credit_for(BetStatus::void_), Credit::refund);
  EXPECT_EQ(credit_for(BetStatus::lost), Credit::none);
  EXPECT_EQ(credit_for(BetStatus::pending), Credit::none);
}

// The plan is the per-bet rules applied to each selection: the store applies
// it to every pending bet in one statement, so it must agree with settle()
// and credit_for() for every selection and result.
TEST(PlanSettlement, AgreesWithTheRulesForEverySelectionAndResult) {
  for (MatchResult result :
       {MatchResult::home, MatchResult::draw, MatchResult::away, MatchResult::void_}) {
    const SettlementPlan plan = plan_settlement(result);
    for (Selection selection : kAllSelections) {
      const BetStatus status = settle(selection, result);
      EXPECT_EQ(plan.status[index_of(selection)], status)
          << to_string(selection) << " vs " << to_string(result);
      EXPECT_EQ(plan.credit[index_of(selection)], credit_for(status))
          << to_string(selection) << " vs " << to_string(result);
    }
  }
}

TEST(PlanSettlement, AVoidMatchRefundsEverySelection) {
  const SettlementPlan plan = plan_settlement(MatchResult::void_);
  for (Selection selection : kAllSelections) {
    EXPECT_EQ(plan.status[index_of(selection)], BetStatus::void_);
    EXPECT_EQ(plan.credit[index_of(selection)], Credit::refund);
  }
}

TEST(PlanSettlement, OneWinnerTwoLosers) {
  const SettlementPlan plan = plan_settlement(MatchResult::draw);
  EXPECT_EQ(plan.credit[index_of(Selection::draw)], Credit::payout);
  EXPECT_EQ(plan.credit[index_of(Selection::home)], Credit::none);
  EXPECT_EQ(plan.credit[index_of(Selection::away)], Credit::none);
}

}  // namespace
}  // namespace betsdb::domain
