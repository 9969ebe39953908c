#include "api/verified_tokens.hpp"

#include <gtest/gtest.h>

namespace betsdb::api {
namespace {

TEST(VerifiedTokens, FindsOnlyWhatItRemembers) {
  VerifiedTokens tokens(10);
  const Digest alice = sha256("alice's token");
  const Digest bob = sha256("bob's token");
  tokens.remember(alice, 7);
  EXPECT_EQ(tokens.find(alice), 7);
  EXPECT_EQ(tokens.find(bob), std::nullopt);
}

TEST(VerifiedTokens, DigestsSharingTheirHashBytesStayApart) {
  // The hash reads the first 8 bytes only; equality must still use all 32.
  VerifiedTokens tokens(10);
  Digest a{};
  Digest b{};
  b[31] = 1;
  tokens.remember(a, 1);
  tokens.remember(b, 2);
  EXPECT_EQ(tokens.find(a), 1);
  EXPECT_EQ(tokens.find(b), 2);
}

TEST(VerifiedTokens, StartsOverWhenFullButKeepsTheNewest) {
  VerifiedTokens tokens(2);
  const Digest one = sha256("1"), two = sha256("2"), three = sha256("3");
  tokens.remember(one, 1);
  tokens.remember(two, 2);
  tokens.remember(two, 2);  // known already: not a reason to start over
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens.find(one), 1);
  tokens.remember(three, 3);
  EXPECT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens.find(three), 3);
  EXPECT_EQ(tokens.find(one), std::nullopt);
}

}  // namespace
}  // namespace betsdb::api
