#include "api/cache_keys.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "api/query_params.hpp"
#include "store/redis/cache.hpp"

namespace betsdb::api {
namespace {

TEST(MatchListKey, SameFilterSameKeyWhateverTheSpelling) {
  store::MatchFilter a;
  a.status = domain::MatchStatus::open;
  a.team = "Arsenal";
  store::MatchFilter b = a;
  b.team = "ARSENAL";
  EXPECT_EQ(match_list_key(a, {}), match_list_key(b, {}));
  EXPECT_EQ(match_list_key(a, {}), "status=open&team=arsenal&sort=date&limit=20&offset=0");
}

TEST(MatchListKey, DifferentFiltersDiffer) {
  store::MatchFilter a;
  store::MatchFilter b;
  b.newest_first = true;
  EXPECT_NE(match_list_key(a, {}), match_list_key(b, {}));
  EXPECT_NE(match_list_key(a, {20, 0}), match_list_key(a, {20, 20}));
  EXPECT_NE(match_list_key(a, {20, 0}), match_list_key(a, {10, 0}));
}

TEST(BetListKey, DefaultsSpelledOutOrNotGiveOneKey) {
  store::BetFilter filter;
  filter.status = domain::BetStatus::pending;
  filter.min_stake = 100;
  EXPECT_EQ(bet_list_key(filter, {}), "min_stake=100&status=pending&sort=-created_at&limit=20&offset=0");
  store::BetFilter other = filter;
  other.sort = store::BetSort::stake_descending;
  EXPECT_NE(bet_list_key(filter, {}), bet_list_key(other, {}));
}

TEST(QueryCanonical, ParameterOrderDoesNotMatter) {
  auto a = QueryParams::parse("status=open&team=x&limit=5", {"status", "team", "limit"});
  auto b = QueryParams::parse("limit=5&team=x&status=open", {"status", "team", "limit"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->canonical(), b->canonical());
}

TEST(ShortQueryKey, LongQueriesAreHashedShortOnesKept) {
  EXPECT_EQ(redis::short_query_key("limit=20"), "limit=20");
  const std::string long_query(500, 'x');
  const std::string key = redis::short_query_key(long_query);
  EXPECT_LE(key.size(), 40u);
  EXPECT_EQ(key, redis::short_query_key(long_query));
  EXPECT_NE(key, redis::short_query_key(long_query + "y"));
}

TEST(TtlJitter, StaysWithinTtlAndTtlPlusTenSecondsAndVaries) {
  std::mt19937_64 random(42);
  const std::chrono::seconds base{60};
  std::set<std::int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto ttl = redis::ttl_with_jitter(base, random);
    ASSERT_GE(ttl, base);
    ASSERT_LE(ttl, base + redis::kMaxTtlJitter);
    seen.insert(ttl.count());
  }
  // Uniform over 11 whole seconds: 2000 draws hit every value.
  EXPECT_EQ(seen.size(), 11u);
}

}  // namespace
}  // namespace betsdb::api
