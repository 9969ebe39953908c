#include "domain/match.hpp"

#include <gtest/gtest.h>

namespace betsdb::domain {
namespace {

using namespace std::chrono;

const Timestamp kKickOff = sys_days{2026y / December / 1} + 19h + 45min;

TEST(MatchStatus, WireNamesRoundTrip) {
  EXPECT_EQ(to_string(MatchStatus::open), "open");
  EXPECT_EQ(to_string(MatchStatus::settled), "settled");
  EXPECT_EQ(parse_match_status("open"), MatchStatus::open);
  EXPECT_EQ(parse_match_status("settled"), MatchStatus::settled);
  EXPECT_EQ(to_string(MatchStatus::suspended), "suspended");
  EXPECT_EQ(parse_match_status("suspended"), MatchStatus::suspended);
}

TEST(MatchStatus, RejectsAnythingElse) {
  for (const char* text : {"", "Open", "closed", "pending", "settled ", "void"}) {
    EXPECT_EQ(parse_match_status(text), std::nullopt) << text;
  }
}

TEST(OpenForBetting, OpenMatchBeforeKickOff) {
  EXPECT_TRUE(open_for_betting(MatchStatus::open, kKickOff, kKickOff - 1us));
  EXPECT_TRUE(open_for_betting(MatchStatus::open, kKickOff, kKickOff - days{365}));
}

TEST(OpenForBetting, ClosedFromKickOffOn) {
  EXPECT_FALSE(open_for_betting(MatchStatus::open, kKickOff, kKickOff));
  EXPECT_FALSE(open_for_betting(MatchStatus::open, kKickOff, kKickOff + 1us));
}

TEST(OpenForBetting, SettledMatchIsClosedEvenBeforeKickOff) {
  EXPECT_FALSE(open_for_betting(MatchStatus::settled, kKickOff, kKickOff - 1h));
  EXPECT_FALSE(open_for_betting(MatchStatus::settled, kKickOff, kKickOff + 1h));
}

}  // namespace
}  // namespace betsdb::domain
