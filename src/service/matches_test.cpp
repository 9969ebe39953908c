// service::suspend_match and resume_match against fakes of the ports
// (service/test_fakes.hpp): the matches generation is bumped before the
// answer, whether or not this call moved the match.
#include "service/matches.hpp"

#include <gtest/gtest.h>

#include "service/test_fakes.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;

constexpr std::int64_t kTradedMatch = 7;

class SuspendMatchTest : public ::testing::Test {
 protected:
  SuspendMatchTest() : f(/*with_cache=*/true) {
    f.matches->matches[kTradedMatch] = open_match(kTradedMatch);
  }
  Fakes f;
};

TEST_F(SuspendMatchTest, AMoveBumpsTheMatchesGenerationBeforeItAnswers) {
  auto suspended = f.run(suspend_match(f.ctx, kTradedMatch, std::nullopt));
  ASSERT_TRUE(suspended.ok()) << suspended.error().detail;
  EXPECT_EQ(suspended->status, domain::MatchStatus::suspended);
  EXPECT_TRUE(f.cache_store->bumped("gen:{matches}"));
}

// A concurrent suspension committed first (or this is the retry of one whose
// answer was lost): this call writes nothing, but its answer must not come
// before the generation moved, or a list read after it could show "open".
TEST_F(SuspendMatchTest, FindingTheMatchAlreadyMovedStillBumpsBeforeItAnswers) {
  f.matches->matches[kTradedMatch].status = domain::MatchStatus::suspended;
  auto suspended = f.run(suspend_match(f.ctx, kTradedMatch, std::nullopt));
  ASSERT_TRUE(suspended.ok()) << suspended.error().detail;
  EXPECT_EQ(suspended->status, domain::MatchStatus::suspended);
  EXPECT_TRUE(f.cache_store->bumped("gen:{matches}"));

  f.cache_store->bumps.clear();
  auto resumed = f.run(resume_match(f.ctx, kTradedMatch, std::nullopt));
  ASSERT_TRUE(resumed.ok()) << resumed.error().detail;
  auto again = f.run(resume_match(f.ctx, kTradedMatch, std::nullopt));
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again->status, domain::MatchStatus::open);
  EXPECT_EQ(f.cache_store->bumps.size(), 2u) << "one bump per call, moved or not";
}

}  // namespace
}  // namespace betsdb::service
