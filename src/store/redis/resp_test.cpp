#include "store/redis/resp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace betsdb::redis {
namespace {

using namespace std::string_literals;

TEST(RedisResp, EncodesArgumentsWithTheirLengths) {
  const std::string value = "a\0b\r\n"s;
  auto encoded = encode_command(std::vector<std::string>{"SET", "k", value});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->view(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n"s);
}

TEST(RedisResp, EncodesLongCommandsBeyondTheInlineArgv) {
  std::vector<std::string> args{"RPUSH", "list"};
  for (int i = 0; i < 40; ++i) args.push_back(std::to_string(i));
  auto encoded = encode_command(args);
  ASSERT_TRUE(encoded.ok());
  EXPECT_TRUE(encoded->view().starts_with("*42\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\n0\r\n"));
  EXPECT_TRUE(encoded->view().ends_with("$2\r\n39\r\n"));
}

TEST(RedisResp, EncodesEmptyAndLongArgumentsWithTheirExactLength) {
  const std::string big(12345, 'x');
  auto encoded = encode_command(std::vector<std::string>{"SET", "", big});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->view(), "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$12345\r\n" + big + "\r\n");
}

TEST(RedisResp, RefusesAnEmptyCommand) {
  auto encoded = encode_command(std::vector<std::string>{});
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error().code, Errc::internal);
}

TEST(RedisResp, AppendLaysCommandsBackToBack) {
  std::string wire;
  ASSERT_TRUE(append_command(wire, std::vector<std::string_view>{"MULTI"}).ok());
  ASSERT_TRUE(append_command(wire, std::vector<std::string_view>{"EXEC"}).ok());
  EXPECT_EQ(wire, "*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n");
}

TEST(RedisResp, ReaderWaitsForCompleteRepliesAcrossFeeds) {
  ReplyReader reader;
  const std::string wire = "+OK\r\n:42\r\n$5\r\nhel\0o\r\n$-1\r\n-ERR bad\r\n"s;
  // Feed one byte at a time: every split point must be handled.
  std::vector<Reply> replies;
  for (char c : wire) {
    ASSERT_TRUE(reader.feed(&c, 1).ok());
    for (;;) {
      auto next = reader.next();
      ASSERT_TRUE(next.ok());
      if (!next->has_value()) break;
      replies.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0], Reply::status("OK"));
  EXPECT_EQ(replies[1], Reply::integer(42));
  EXPECT_EQ(replies[2], Reply::string("hel\0o"s));
  EXPECT_EQ(replies[3], Reply::nil());
  EXPECT_EQ(replies[4], Reply::error("ERR bad"));
}

TEST(RedisResp, ReaderBuildsNestedArrays) {
  ReplyReader reader;
  const std::string wire = "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n*-1\r\n";
  ASSERT_TRUE(reader.feed(wire.data(), wire.size()).ok());
  auto first = reader.next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first,
            Reply::array({Reply::integer(1), Reply::array({Reply::string("a"), Reply::nil()}),
                          Reply::array({})}));
  auto second = reader.next();  // a nil multi-bulk (e.g. EXEC after WATCH fired)
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_TRUE((*second)->is_nil());
  auto none = reader.next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(RedisResp, ReaderReportsProtocolErrors) {
  ReplyReader reader;
  const std::string wire = "garbage\r\n";
  ASSERT_TRUE(reader.feed(wire.data(), wire.size()).ok());
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, Errc::internal);
  EXPECT_NE(next.error().detail.find("protocol error"), std::string::npos);
}

}  // namespace
}  // namespace betsdb::redis
