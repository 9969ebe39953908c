#include "util/token.hpp"

#include <gtest/gtest.h>

#include <set>

namespace betsdb {
namespace {

TEST(Token, GeneratedTokensAreDistinctAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = generate_token();
    EXPECT_TRUE(looks_like_token(t)) << t;
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(Token, MalformedTokensAreRecognised) {
  EXPECT_FALSE(looks_like_token(""));
  EXPECT_FALSE(looks_like_token("short"));
  EXPECT_FALSE(looks_like_token(std::string(43, '!')));
  EXPECT_FALSE(looks_like_token(std::string(44, 'a')));
  EXPECT_TRUE(looks_like_token(std::string(43, 'a')));
}

TEST(Token, Sha256MatchesKnownVector) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Token, ConstantTimeEqualComparesWholeDigest) {
  auto a = sha256("x");
  auto b = a;
  EXPECT_TRUE(constant_time_equal(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(constant_time_equal(a, b));
}

}  // namespace
}  // namespace betsdb
