#include "app/config.hpp"

#include <gtest/gtest.h>

namespace betsdb::app {
namespace {

Result<Config> load(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::vector<char*> environ;
  for (auto& e : env) environ.push_back(e.data());
  environ.push_back(nullptr);
  return load_config(args, environ.data());
}

std::string first_error(const Result<Config>& c) {
  if (c.ok()) return "";
  const auto& e = c.error();
  return e.field_errors.empty() ? e.detail
                                : e.field_errors[0].field + " " + e.field_errors[0].message;
}

TEST(LoadConfig, RefusesAnUnknownLogLevelInsteadOfSilentlyLoggingNothing) {
  auto from_env = load({"serve"}, {"BETSDB_LOG_LEVEL=verbose"});
  ASSERT_FALSE(from_env.ok());
  EXPECT_NE(first_error(from_env).find("log_level"), std::string::npos);
  EXPECT_NE(first_error(from_env).find("verbose"), std::string::npos);
  EXPECT_FALSE(load({"--log-level=WARN"}).ok());
  auto ok = load({"--log-level", "warn"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->log_level, "warn");
}

TEST(LoadConfig, ImportKeepsItsOwnArgumentsInOrderAndStillReadsSharedOptions) {
  auto c = load({"import", "fixtures.json", "--odds-seed", "7", "--database-url=postgresql://x/y",
                 "--apply-results"});
  ASSERT_TRUE(c.ok()) << first_error(c);
  EXPECT_EQ(c->command, "import");
  EXPECT_EQ(c->database_url, "postgresql://x/y");
  EXPECT_EQ(c->command_args,
            (std::vector<std::string>{"fixtures.json", "--odds-seed", "7", "--apply-results"}));
}

TEST(LoadConfig, TrustedProxiesAreIpAddresses) {
  auto c = load({"--trusted-proxies", "127.0.0.1, ::1"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_FALSE(load({"--trusted-proxies", "haproxy.local"}).ok());
  auto limits = load({"serve"}, {"BETSDB_SIGNUP_RATE_LIMIT=0", "BETSDB_PASSWORD_THREADS=3"});
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(limits->signup_rate_limit, 0);
  EXPECT_EQ(limits->password_threads, 3u);
  EXPECT_FALSE(load({"--password-threads", "0"}).ok());
  EXPECT_FALSE(load({"--signup-rate-limit", "-1"}).ok());
}

TEST(LoadConfig, TheStreamsLongestHoldIsZeroToAMinute) {
  EXPECT_EQ(load({"serve"})->stream_max_hold, std::chrono::milliseconds(1000));
  auto never = load({"serve"}, {"BETSDB_STREAM_MAX_HOLD_MS=0"});
  ASSERT_TRUE(never.ok()) << first_error(never);
  EXPECT_EQ(never->stream_max_hold, std::chrono::milliseconds(0));
  EXPECT_EQ(load({"--stream-max-hold-ms", "250"})->stream_max_hold, std::chrono::milliseconds(250));
  EXPECT_NE(first_error(load({"--stream-max-hold-ms", "60001"})).find("stream_max_hold_ms"),
            std::string::npos);
  EXPECT_FALSE(load({"--stream-max-hold-ms", "-1"}).ok());
}

TEST(LoadConfig, RedisTrackingIsOnUnlessTurnedOffAndTakesOnlyOnOrOff) {
  auto defaults = load({"serve"});
  ASSERT_TRUE(defaults.ok()) << first_error(defaults);
  EXPECT_TRUE(defaults->redis_tracking);
  auto off = load({"serve"}, {"BETSDB_REDIS_TRACKING=off"});
  ASSERT_TRUE(off.ok()) << first_error(off);
  EXPECT_FALSE(off->redis_tracking);
  auto flag_wins = load({"serve", "--redis-tracking=on"}, {"BETSDB_REDIS_TRACKING=off"});
  ASSERT_TRUE(flag_wins.ok()) << first_error(flag_wins);
  EXPECT_TRUE(flag_wins->redis_tracking);
  auto bad = load({"serve", "--redis-tracking=yes"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(first_error(bad).find("redis_tracking"), std::string::npos);
}

TEST(LoadConfig, ClusterTrackingIsOffUnlessTurnedOn) {
  auto defaults = load({"serve"});
  ASSERT_TRUE(defaults.ok()) << first_error(defaults);
  EXPECT_FALSE(defaults->redis_cluster_tracking);
  auto on = load({"serve"}, {"BETSDB_REDIS_CLUSTER_TRACKING=on"});
  ASSERT_TRUE(on.ok()) << first_error(on);
  EXPECT_TRUE(on->redis_cluster_tracking);
  auto bad = load({"serve", "--redis-cluster-tracking=1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(first_error(bad).find("redis_cluster_tracking"), std::string::npos);
}

TEST(LoadConfig, OtherCommandsRefuseArgumentsTheyDoNotKnow) {
  EXPECT_FALSE(load({"check", "--apply-results"}).ok());
  EXPECT_FALSE(load({"serve", "extra"}).ok());
  EXPECT_FALSE(load({"frobnicate"}).ok());
}

TEST(LoadConfig, HelpAfterACommandAsksForThatCommandsHelp) {
  auto c = load({"import", "--help"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->command, "import");
  EXPECT_TRUE(c->help);
  auto h = load({"help", "check"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->command, "help");
  EXPECT_EQ(h->command_args, std::vector<std::string>{"check"});
}

TEST(CheckAdminTokens, RefusesAMissingOrShortTokenAndAcceptsThirtyTwoCharacters) {
  Config config;
  EXPECT_FALSE(check_admin_tokens(config).ok());
  config.admin_token = std::string(kMinAdminTokenLength - 1, 'a');
  auto short_one = check_admin_tokens(config);
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().field_errors.at(0).field, "BETSDB_ADMIN_TOKEN");
  config.admin_token = std::string(kMinAdminTokenLength, 'a');
  EXPECT_TRUE(check_admin_tokens(config).ok());
}

TEST(CheckAdminTokens, APreviousTokenMustBeAsLongAndNotTheCurrentOne) {
  Config config;
  config.admin_token = std::string(40, 'a');
  config.admin_token_previous = std::string(kMinAdminTokenLength - 1, 'b');
  auto short_one = check_admin_tokens(config);
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().field_errors.at(0).field, "BETSDB_ADMIN_TOKEN_PREVIOUS");
  config.admin_token_previous = config.admin_token;
  EXPECT_FALSE(check_admin_tokens(config).ok());
  config.admin_token_previous = std::string(kMinAdminTokenLength, 'b');
  EXPECT_TRUE(check_admin_tokens(config).ok());
}

}  // namespace
}  // namespace betsdb::app
