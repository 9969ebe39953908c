// The shard's copies of cache entries, with scripted clocks.
#include "store/redis/local_entries.hpp"

#include <gtest/gtest.h>

namespace betsdb::redis {
namespace {

using namespace std::chrono_literals;
using Clock = LocalEntries::Clock;

const Clock::time_point t0{};

TEST(LocalEntries, ACopyIsFoundUnderItsKeyFromItsOriginUntilItExpires) {
  LocalEntries copies(1 << 20);
  copies.remember("matches:list:7:limit=20", "abc123", R"({"items":[]})", t0 + 60s);
  const std::string* found = copies.find("matches:list:7:limit=20", "abc123", t0 + 59s);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, R"({"items":[]})");
  EXPECT_EQ(copies.find("matches:list:8:limit=20", "abc123", t0), nullptr) << "another generation";
  EXPECT_EQ(copies.find("matches:list:7:limit=20", "abc123", t0 + 60s), nullptr) << "expired";
  EXPECT_EQ(copies.size(), 0U) << "an expired copy is dropped";
  EXPECT_EQ(copies.bytes(), 0U);
}

TEST(LocalEntries, ACopyFromAnotherRedisProcessIsNeverFoundAndIsDropped) {
  LocalEntries copies(1 << 20);
  copies.remember("k", "old-process", "v", t0 + 60s);
  EXPECT_EQ(copies.find("k", "new-process", t0), nullptr);
  EXPECT_EQ(copies.find("k", "old-process", t0), nullptr) << "dropped at the first mismatch";
}

TEST(LocalEntries, NothingIsKeptWithoutAnOrigin) {
  LocalEntries copies(1 << 20);
  copies.remember("k", "", "v", t0 + 60s);
  EXPECT_EQ(copies.size(), 0U);
  EXPECT_EQ(copies.find("k", "", t0), nullptr);
}

TEST(LocalEntries, RememberingAKeyAgainReplacesItsCopyAndItsCost) {
  LocalEntries copies(1 << 20);
  copies.remember("k", "o", std::string(1000, 'a'), t0 + 60s);
  const std::size_t one = copies.bytes();
  copies.remember("k", "o", std::string(1000, 'b'), t0 + 61s);
  EXPECT_EQ(copies.size(), 1U);
  EXPECT_EQ(copies.bytes(), one);
  ASSERT_NE(copies.find("k", "o", t0 + 60s), nullptr) << "the new expiry replaces the old";
  EXPECT_EQ(*copies.find("k", "o", t0 + 60s), std::string(1000, 'b'));
}

TEST(LocalEntries, StaysWithinItsBudgetByStartingOverAndKeepsNoHugeValue) {
  constexpr std::size_t kBudget = 64 * 1024;
  LocalEntries copies(kBudget);
  copies.remember("huge", "o", std::string(kBudget / 8, 'x'), t0 + 60s);
  EXPECT_EQ(copies.size(), 0U) << "a value of an eighth of the budget would push the others out";
  for (int i = 0; i < 200; ++i) {
    copies.remember("k" + std::to_string(i), "o", std::string(1000, 'x'), t0 + 60s);
    EXPECT_LE(copies.bytes(), kBudget);
  }
  EXPECT_GT(copies.size(), 0U);
  ASSERT_NE(copies.find("k199", "o", t0), nullptr) << "the newest copy is kept";
  EXPECT_EQ(copies.find("k0", "o", t0), nullptr) << "the budget cannot hold 200 copies of 1 KB";
}

}  // namespace
}  // namespace betsdb::redis
