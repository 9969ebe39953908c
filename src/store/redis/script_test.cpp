#include "store/redis/script.hpp"

#include <gtest/gtest.h>

namespace betsdb::redis {
namespace {

TEST(RedisScript, Sha1IsWhatScriptLoadReports) {
  // `redis-cli SCRIPT LOAD "return 1"` prints this digest.
  const Script script("return 1");
  EXPECT_EQ(script.source(), "return 1");
  EXPECT_EQ(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(RedisScript, EmptySourceHasTheEmptyDigest) {
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

}  // namespace
}  // namespace betsdb::redis
