#include "store/redis/reply.hpp"

#include <gtest/gtest.h>

namespace betsdb::redis {
namespace {

TEST(RedisReply, DefaultIsNil) {
  const Reply r;
  EXPECT_TRUE(r.is_nil());
  EXPECT_EQ(r.type(), Reply::Type::nil);
  EXPECT_EQ(r.as_string(), "");
  EXPECT_EQ(r.as_integer(), 0);
  EXPECT_TRUE(r.elements().empty());
}

TEST(RedisReply, AccessorsMatchTheType) {
  EXPECT_EQ(Reply::integer(42).as_integer(), 42);
  EXPECT_EQ(Reply::string("abc").as_string(), "abc");
  EXPECT_EQ(Reply::status("OK").as_string(), "OK");
  EXPECT_TRUE(Reply::status("OK").is_ok());
  EXPECT_FALSE(Reply::string("OK").is_ok());
  const Reply err = Reply::error("WRONGTYPE Operation against a key");
  EXPECT_TRUE(err.is_error());
  EXPECT_EQ(err.as_string(), "WRONGTYPE Operation against a key");
  const Reply arr = Reply::array({Reply::integer(1), Reply::nil()});
  ASSERT_EQ(arr.elements().size(), 2u);
  EXPECT_TRUE(arr.elements()[1].is_nil());
  EXPECT_EQ(arr.as_integer(), 0);  // wrong kind: zero, no throw
}

TEST(RedisReply, ToIntegerAcceptsIntegersAndDecimalStringsOnly) {
  EXPECT_EQ(Reply::integer(-7).to_integer(), -7);
  EXPECT_EQ(Reply::string("123").to_integer(), 123);
  EXPECT_EQ(Reply::string("-9223372036854775808").to_integer(), INT64_MIN);
  EXPECT_EQ(Reply::string("12a").to_integer(), std::nullopt);
  EXPECT_EQ(Reply::string("").to_integer(), std::nullopt);
  EXPECT_EQ(Reply::string("99999999999999999999").to_integer(), std::nullopt);
  EXPECT_EQ(Reply::status("5").to_integer(), std::nullopt);
  EXPECT_EQ(Reply::nil().to_integer(), std::nullopt);
}

TEST(RedisReply, ErrorCodeIsTheFirstWord) {
  const Reply r = Reply::error("NOSCRIPT No matching script. Please use EVAL.");
  EXPECT_TRUE(r.has_error_code("NOSCRIPT"));
  EXPECT_FALSE(r.has_error_code("NOSCRIPTS"));
  EXPECT_FALSE(r.has_error_code("NOS"));
  EXPECT_TRUE(Reply::error("ERR").has_error_code("ERR"));
  EXPECT_FALSE(Reply::status("NOSCRIPT x").has_error_code("NOSCRIPT"));
}

TEST(RedisReply, MovingOutTakesTheContent) {
  Reply r = Reply::string(std::string(100, 'x'));
  const std::string taken = std::move(r).as_string();
  EXPECT_EQ(taken.size(), 100u);
  Reply arr = Reply::array({Reply::integer(1)});
  const std::vector<Reply> elements = std::move(arr).elements();
  EXPECT_EQ(elements, std::vector<Reply>{Reply::integer(1)});
}

TEST(RedisReply, DescribeEscapesBinaryAndTruncates) {
  EXPECT_EQ(Reply::string(std::string("a\0\"\r", 4)).describe(), R"("a\x00\"\x0d")");
  EXPECT_EQ(Reply::array({Reply::integer(1), Reply::nil(), Reply::error("ERR x")}).describe(),
            "[(integer) 1, (nil), (error) ERR x]");
  // Built by appending: g++ 12 warns (falsely, -Warray-bounds) about
  // `"\"" + std::string(64, 'y') + "..."` at -O3.
  std::string truncated = "\"";
  truncated.append(64, 'y');
  truncated += "...\"";
  EXPECT_EQ(Reply::string(std::string(100, 'y')).describe(), truncated);
}

}  // namespace
}  // namespace betsdb::redis
