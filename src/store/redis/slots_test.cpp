#include "store/redis/slots.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace betsdb::redis {
namespace {

// The specification's test vector: CRC16 of "123456789" is 0x31C3.
TEST(ClusterSlots, Crc16MatchesTheSpecification) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

// Values from CLUSTER KEYSLOT of a real Redis 7.
TEST(ClusterSlots, SlotsMatchRedis) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
}

TEST(ClusterSlots, HashTagIsTheFirstNonEmptyBracedPart) {
  EXPECT_EQ(hash_tag("cart:{42}"), "42");
  EXPECT_EQ(hash_tag("cart:{42}:seq"), "42");
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");  // an empty first tag: the whole key
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");     // from the first '{' to the first '}'
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hash_tag("no tag"), "no tag");
  EXPECT_EQ(hash_tag("open{ only"), "open{ only");
  EXPECT_EQ(key_slot("cart:{42}"), key_slot("cart:{42}:seq"));
  EXPECT_EQ(key_slot("bets_by_email:{a{b}@x.com}:7:q"), key_slot("gen:bets_by_email:{a{b}@x.com}"));
}

TEST(ClusterSlots, EverySlotIsInRange) {
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(key_slot("key:" + std::to_string(i)), kClusterSlots);
  }
}

std::optional<std::string_view> key_of(std::initializer_list<std::string_view> argv) {
  return first_key(std::span<const std::string_view>(argv.begin(), argv.size()));
}

TEST(ClusterSlots, FirstKeyOfTheCommandsBetsdbSends) {
  EXPECT_EQ(key_of({"GET", "k"}), "k");
  EXPECT_EQ(key_of({"SET", "lock", "token", "NX", "PX", "10000"}), "lock");
  EXPECT_EQ(key_of({"MGET", "gen:{matches}", "matches:list:{matches}:1:q"}), "gen:{matches}");
  EXPECT_EQ(key_of({"unlink", "a", "b"}), "a");
  EXPECT_EQ(key_of({"EVALSHA", "sha", "2", "cart:{7}", "cart:{7}:seq", "arg"}), "cart:{7}");
  EXPECT_EQ(key_of({"evalsha_ro", "sha", "1", "gen:{bets}", "x"}), "gen:{bets}");
  EXPECT_EQ(key_of({"EVAL", "return 1", "0"}), std::nullopt);
  EXPECT_EQ(key_of({"EVAL", "return 1", "x"}), std::nullopt);
  EXPECT_EQ(key_of({"PING"}), std::nullopt);
  EXPECT_EQ(key_of({"SCAN", "0", "MATCH", "x*"}), std::nullopt);
  EXPECT_EQ(key_of({"CLUSTER", "SLOTS"}), std::nullopt);
  EXPECT_EQ(key_of({"INFO", "server"}), std::nullopt);
  EXPECT_EQ(key_of({"XREAD", "COUNT", "5", "BLOCK", "500", "STREAMS", "stream:{matches}", "0-0"}),
            "stream:{matches}");
  EXPECT_EQ(key_of({"xread", "streams", "s", "$"}), "s");
  EXPECT_EQ(key_of({"XREAD", "BLOCK", "5"}), std::nullopt);
  EXPECT_EQ(key_of({"XRANGE", "stream:{matches}", "-", "+"}), "stream:{matches}");
  EXPECT_EQ(key_of({"XINFO", "STREAM", "stream:{matches}"}), "stream:{matches}");
  EXPECT_EQ(key_of({"XINFO", "HELP"}), std::nullopt);
}

}  // namespace
}  // namespace betsdb::redis
