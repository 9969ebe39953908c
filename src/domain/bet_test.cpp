#include "domain/bet.hpp"

#include <gtest/gtest.h>

namespace betsdb::domain {
namespace {

TEST(BetStatus, WireNames) {
  EXPECT_EQ(to_string(BetStatus::pending), "pending");
  EXPECT_EQ(to_string(BetStatus::won), "won");
  EXPECT_EQ(to_string(BetStatus::lost), "lost");
  EXPECT_EQ(to_string(BetStatus::void_), "void");
}

TEST(BetStatus, ParsesWireNamesAndRoundTrips) {
  for (BetStatus s : {BetStatus::pending, BetStatus::won, BetStatus::lost, BetStatus::void_}) {
    EXPECT_EQ(parse_bet_status(to_string(s)), s);
  }
}

TEST(BetStatus, RejectsAnythingElse) {
  for (const char* text : {"", "Pending", "WON", "void_", "settled", "open", " lost", "1"}) {
    EXPECT_EQ(parse_bet_status(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace betsdb::domain
