#include "app/openfootball.hpp"

#include <gtest/gtest.h>

namespace betsdb::app {
namespace {

constexpr std::string_view kFile = R"json({
  "name": "Test League 2024/25",
  "matches": [
    {"round": "Matchday 1", "date": "2024-08-16", "time": "20:00",
     "team1": "Manchester United FC", "team2": "Fulham FC",
     "score": {"ht": [0, 0], "ft": [1, 0]}},
    {"round": "Matchday 1", "date": "2024-08-17", "time": "18:30 UTC+2",
     "team1": "  Ipswich Town FC ", "team2": "Liverpool FC", "score": {"ft": [2, 2]}},
    {"round": "Matchday 2", "date": "2024-08-24",
     "team1": "Arsenal FC", "team2": "Aston Villa FC", "score": {"ft": [0, 2]}},
    {"round": "Matchday 31", "date": "2026-03-21", "time": "",
     "team1": "Manchester City FC", "team2": "Crystal Palace FC", "score": {}, "status": "postponed"},
    {"round": "Matchday 3", "date": "2024-02-30", "time": "15:00", "team1": "A FC", "team2": "B FC"},
    {"round": "Matchday 3", "date": "2024-08-31", "time": "15:00", "team1": "Everton", "team2": "EVERTON"},
    {"round": "Matchday 3", "date": "2024-08-31", "time": "25:00", "team1": "C FC", "team2": "D FC"},
    {"round": "Matchday 3", "date": "2024-08-31", "team1": "E FC"},
    {"date": "2024-09-01", "team1": "Old FC", "team2": "Format FC", "score1": 0, "score2": 1},
    "not a match"
  ]
})json";

std::string iso(domain::Timestamp t) {
  return domain::format_rfc3339(t);
}

TEST(ParseOpenfootball, ReadsTeamsKickoffAndFullTimeResult) {
  auto file = parse_openfootball(kFile);
  ASSERT_TRUE(file.ok()) << file.error().detail;
  EXPECT_EQ(file->name, "Test League 2024/25");
  ASSERT_EQ(file->fixtures.size(), 5u);

  const auto& first = file->fixtures[0];
  EXPECT_EQ(first.index, 0u);
  EXPECT_EQ(first.team_1, "Manchester United FC");
  EXPECT_EQ(first.team_2, "Fulham FC");
  EXPECT_EQ(iso(first.date), "2024-08-16T20:00:00Z");  // no zone: UTC
  EXPECT_EQ(first.result, domain::MatchResult::home);

  const auto& second = file->fixtures[1];
  EXPECT_EQ(second.team_1, "Ipswich Town FC");          // trimmed like the API does
  EXPECT_EQ(iso(second.date), "2024-08-17T16:30:00Z");  // 18:30 at UTC+2
  EXPECT_EQ(second.result, domain::MatchResult::draw);

  EXPECT_EQ(iso(file->fixtures[2].date), "2024-08-24T12:00:00Z");  // no time: noon UTC
  EXPECT_EQ(file->fixtures[2].result, domain::MatchResult::away);

  EXPECT_EQ(iso(file->fixtures[3].date), "2026-03-21T12:00:00Z");  // empty time too
  EXPECT_FALSE(file->fixtures[3].result);                          // postponed: no score

  EXPECT_EQ(file->fixtures[4].index, 8u);  // the older score1/score2 form
  EXPECT_EQ(file->fixtures[4].result, domain::MatchResult::away);
}

TEST(ParseOpenfootball, ReportsEachMalformedMatchAndKeepsTheOthers) {
  auto file = parse_openfootball(kFile);
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->problems.size(), 5u);
  EXPECT_EQ(file->problems[0].index, 4u);  // 2024-02-30
  EXPECT_NE(file->problems[0].message.find("date"), std::string::npos);
  EXPECT_EQ(file->problems[1].index, 5u);  // the same team twice, ignoring case
  EXPECT_NE(file->problems[1].message.find("differ"), std::string::npos);
  EXPECT_EQ(file->problems[2].index, 6u);  // 25:00
  EXPECT_NE(file->problems[2].message.find("time"), std::string::npos);
  EXPECT_EQ(file->problems[3].index, 7u);  // no team2
  EXPECT_EQ(file->problems[4].index, 9u);  // not an object
}

TEST(ParseOpenfootball, RejectsWhatIsNotAFixtureFile) {
  EXPECT_FALSE(parse_openfootball("{").ok());
  EXPECT_FALSE(parse_openfootball("[]").ok());
  EXPECT_FALSE(parse_openfootball(R"({"name": "x"})").ok());
  EXPECT_FALSE(parse_openfootball(R"({"matches": {}})").ok());
  auto empty = parse_openfootball(R"({"matches": []})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->fixtures.empty());
}

TEST(ParseKickoffTime, ReadsZones) {
  auto t = parse_kickoff_time("20:45");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->minutes, 20 * 60 + 45);
  EXPECT_EQ(t->utc_offset_minutes, 0);
  EXPECT_EQ(parse_kickoff_time("18:00 UTC+3")->utc_offset_minutes, 180);
  EXPECT_EQ(parse_kickoff_time("18:00 UTC-03:30")->utc_offset_minutes, -210);
  EXPECT_EQ(parse_kickoff_time("18:00 +0530")->utc_offset_minutes, 330);
  EXPECT_EQ(parse_kickoff_time("18:00 UTC")->utc_offset_minutes, 0);
  EXPECT_FALSE(parse_kickoff_time("18h00"));
  EXPECT_FALSE(parse_kickoff_time("18:00 CET"));
  EXPECT_FALSE(parse_kickoff_time("18:00 UTC+15"));
  EXPECT_FALSE(parse_kickoff_time("24:00"));
}

}  // namespace
}  // namespace betsdb::app
