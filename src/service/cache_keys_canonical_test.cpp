// More of cache_keys.hpp's contract: two list queries share a cache key if
// and only if they ask for the same answer. cache_keys_test.cpp covers "if";
// these cover "only if": every filter shows in the key, and free text (team
// names) cannot pose as another filter.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "service/cache_keys.hpp"

namespace betsdb::service {
namespace {

using namespace std::chrono_literals;

domain::Timestamp at_seconds(std::int64_t s) {
  return domain::Timestamp(std::chrono::seconds(s));
}

TEST(CacheKeyCanonical, EveryMatchFilterChangesTheKey) {
  std::vector<domain::MatchFilter> filters(9);
  filters[1].status = domain::MatchStatus::open;
  filters[2].status = domain::MatchStatus::settled;
  filters[3].team = "arsenal";
  filters[4].from = at_seconds(1'924'992'000);
  filters[5].to = at_seconds(1'924'992'000);
  filters[6].newest_first = true;
  filters[7].competition = "arsenal";  // the same text as a team is another question
  filters[8].search = "arsenal";
  std::set<std::string> keys;
  for (const auto& f : filters) keys.insert(match_list_key(f, {}));
  EXPECT_EQ(keys.size(), filters.size()) << "two different match filters share a key";
  // The same instant as `from` or as `to` is two different questions.
  EXPECT_NE(match_list_key(filters[4], {}), match_list_key(filters[5], {}));
  // Times are kept to the microsecond, as filters compare them.
  domain::MatchFilter later = filters[4];
  later.from = *later.from + 1us;
  EXPECT_NE(match_list_key(filters[4], {}), match_list_key(later, {}));
}

TEST(CacheKeyCanonical, EveryBetFilterChangesTheKey) {
  std::vector<domain::BetFilter> filters(12);
  filters[1].match_id = 7;
  filters[2].match_id = 8;
  filters[3].status = domain::BetStatus::won;
  filters[4].selection = domain::Selection::draw;
  filters[5].min_stake = 100;
  filters[6].max_stake = 100;
  filters[7].sort = domain::BetSort::oldest;
  filters[8].sort = domain::BetSort::stake_ascending;
  filters[9].sort = domain::BetSort::stake_descending;
  filters[10].status = domain::BetStatus::void_;
  filters[11].selection = domain::Selection::away;
  std::set<std::string> keys;
  for (const auto& f : filters) keys.insert(bet_list_key(f, {}));
  EXPECT_EQ(keys.size(), filters.size()) << "two different bet filters share a key";
  EXPECT_NE(bet_list_key({}, {20, 0}), bet_list_key({}, {20, 20}));
  EXPECT_NE(bet_list_key({}, {5, 0}), bet_list_key({}, {20, 0}));
}

// A team name is free text (any printable UTF-8, '&' and '=' included), so
// it must be escaped in the key: else GET /v1/matches?team=X%26to%3D<micros>
// (no match has that name: an empty list) and ?team=X&to=<that time> build
// the same key, and whichever is read first answers for both.
TEST(CacheKeyCanonical, ATeamNameCannotPoseAsAnotherFilter) {
  domain::MatchFilter real;
  real.team = "arsenal";
  real.to = at_seconds(1'924'992'000);
  domain::MatchFilter forged;
  forged.team = "arsenal&to=" + std::to_string(real.to->time_since_epoch().count());
  EXPECT_NE(match_list_key(real, {}), match_list_key(forged, {}));
  // Nor may escaping make two different names meet.
  domain::MatchFilter percent;
  percent.team = "arsenal%26to%3D" + std::to_string(real.to->time_since_epoch().count());
  EXPECT_NE(match_list_key(forged, {}), match_list_key(percent, {}));
}

}  // namespace
}  // namespace betsdb::service
