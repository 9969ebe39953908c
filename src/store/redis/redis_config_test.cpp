#include "store/redis/redis_config.hpp"

#include <gtest/gtest.h>

namespace betsdb::redis {
namespace {

TEST(RedisUrl, ParsesEveryPart) {
  auto cfg = parse_url("redis://alice:s3cret@cache.internal:6380/2");
  ASSERT_TRUE(cfg.ok()) << cfg.error().detail;
  EXPECT_EQ(cfg->host, "cache.internal");
  EXPECT_EQ(cfg->port, 6380);
  EXPECT_EQ(cfg->username, "alice");
  EXPECT_EQ(cfg->password, "s3cret");
  EXPECT_EQ(cfg->db, 2);
}

TEST(RedisUrl, HostAloneKeepsDefaults) {
  auto cfg = parse_url("redis://localhost");
  ASSERT_TRUE(cfg.ok()) << cfg.error().detail;
  EXPECT_EQ(cfg->host, "localhost");
  EXPECT_EQ(cfg->port, 6379);
  EXPECT_EQ(cfg->username, "");
  EXPECT_EQ(cfg->password, "");
  EXPECT_EQ(cfg->db, 0);
  EXPECT_EQ(cfg->connect_timeout, Config{}.connect_timeout);
  EXPECT_EQ(cfg->command_timeout, Config{}.command_timeout);
  EXPECT_TRUE(parse_url("redis://localhost/").ok());
}

TEST(RedisUrl, PasswordWithoutUserAndPercentEncoding) {
  auto cfg = parse_url("redis://:p%40ss%3Aw0rd@127.0.0.1:6390/0");
  ASSERT_TRUE(cfg.ok()) << cfg.error().detail;
  EXPECT_EQ(cfg->username, "");
  EXPECT_EQ(cfg->password, "p@ss:w0rd");
  EXPECT_EQ(cfg->port, 6390);
}

TEST(RedisUrl, Ipv6HostLosesItsBrackets) {
  auto cfg = parse_url("redis://[::1]:6391/3");
  ASSERT_TRUE(cfg.ok()) << cfg.error().detail;
  EXPECT_EQ(cfg->host, "::1");
  EXPECT_EQ(cfg->port, 6391);
  EXPECT_EQ(cfg->db, 3);
}

void expect_invalid(std::string_view url, std::string_view why) {
  auto cfg = parse_url(url);
  ASSERT_FALSE(cfg.ok()) << url;
  EXPECT_EQ(cfg.error().code, Errc::validation_failed) << url;
  EXPECT_NE(cfg.error().detail.find(why), std::string::npos) << url << ": " << cfg.error().detail;
}

TEST(RedisUrl, RejectsBadUrlsWithAClearReason) {
  expect_invalid("", "well-formed");
  expect_invalid("not a url", "well-formed");
  expect_invalid("http://localhost", "scheme");
  expect_invalid("rediss://localhost", "TLS");
  expect_invalid("redis://", "host");
  expect_invalid("redis://localhost:0", "port");
  expect_invalid("redis://localhost:65536", "port");
  expect_invalid("redis://localhost:http", "port");
  expect_invalid("redis://localhost/x", "database");
  expect_invalid("redis://localhost/1/2", "database");
  expect_invalid("redis://localhost/-1", "database");
  expect_invalid("redis://localhost/99999999999", "database");
  expect_invalid("redis://localhost?db=1", "query");
  expect_invalid("redis://localhost#top", "fragment");
  expect_invalid("redis://alice@localhost", "password");
}

TEST(RedisUrl, ErrorsNeverEchoThePassword) {
  auto cfg = parse_url("redis://:topsecret@localhost:99999");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().detail.find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace betsdb::redis
