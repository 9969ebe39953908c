#include "service/match_memory.hpp"

#include <gtest/gtest.h>

namespace betsdb::service {
namespace {

domain::Match match_with_id(std::int64_t id, std::string team_1 = "Arsenal") {
  domain::Match m;
  m.id = id;
  m.team_1 = std::move(team_1);
  m.team_2 = "Chelsea";
  return m;
}

TEST(MatchMemory, RemembersTheLatestReadOfEachMatchWithItsGeneration) {
  MatchMemory memory;
  EXPECT_EQ(memory.find(7), nullptr);
  memory.remember(match_with_id(7), "100");
  memory.remember(match_with_id(8), "");
  ASSERT_NE(memory.find(7), nullptr);
  EXPECT_EQ(memory.find(7)->match.team_1, "Arsenal");
  EXPECT_EQ(memory.find(7)->generation, "100");
  EXPECT_EQ(memory.find(8)->generation, "");

  memory.remember(match_with_id(7, "Fulham"), "101");
  EXPECT_EQ(memory.find(7)->match.team_1, "Fulham");
  EXPECT_EQ(memory.find(7)->generation, "101");
}

TEST(MatchMemory, StartsOverWhenFullInsteadOfGrowingWithoutBound) {
  MatchMemory memory;
  constexpr std::int64_t kMany = 50'000;  // more than the memory keeps
  for (std::int64_t id = 1; id <= kMany; ++id) memory.remember(match_with_id(id), "1");
  EXPECT_NE(memory.find(kMany), nullptr) << "the latest match must be kept";
  std::int64_t kept = 0;
  for (std::int64_t id = 1; id <= kMany; ++id) kept += memory.find(id) != nullptr ? 1 : 0;
  EXPECT_LT(kept, kMany);
}

}  // namespace
}  // namespace betsdb::service
