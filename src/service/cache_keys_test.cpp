#include "service/cache_keys.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace betsdb::service {
namespace {

TEST(MatchListKey, SameFilterSameKeyWhateverTheSpelling) {
  domain::MatchFilter a;
  a.status = domain::MatchStatus::open;
  a.team = "Arsenal";
  domain::MatchFilter b = a;
  b.team = "ARSENAL";
  EXPECT_EQ(match_list_key(a, {}), match_list_key(b, {}));
  EXPECT_EQ(match_list_key(a, {}), "status=open&team=arsenal&sort=date&limit=20&offset=0");
}

TEST(MatchListKey, SearchAndCompetitionIgnoreCaseToo) {
  domain::MatchFilter a;
  a.search = "Ars";
  a.competition = "Premier League";
  domain::MatchFilter b;
  b.search = "aRS";
  b.competition = "PREMIER LEAGUE";
  EXPECT_EQ(match_list_key(a, {}), match_list_key(b, {}));
  EXPECT_EQ(match_list_key(a, {}),
            "competition=premier%20league&q=ars&sort=date&limit=20&offset=0");
}

TEST(MatchListKey, DifferentFiltersDiffer) {
  domain::MatchFilter a;
  domain::MatchFilter b;
  b.newest_first = true;
  EXPECT_NE(match_list_key(a, {}), match_list_key(b, {}));
  EXPECT_NE(match_list_key(a, {20, 0}), match_list_key(a, {20, 20}));
  EXPECT_NE(match_list_key(a, {20, 0}), match_list_key(a, {10, 0}));
}

TEST(BetListKey, DefaultsSpelledOutOrNotGiveOneKey) {
  domain::BetFilter filter;
  filter.status = domain::BetStatus::pending;
  filter.min_stake = 100;
  EXPECT_EQ(bet_list_key(filter, {}),
            "min_stake=100&status=pending&sort=-created_at&limit=20&offset=0");
  domain::BetFilter other = filter;
  other.sort = domain::BetSort::stake_descending;
  EXPECT_NE(bet_list_key(filter, {}), bet_list_key(other, {}));
}

}  // namespace
}  // namespace betsdb::service
