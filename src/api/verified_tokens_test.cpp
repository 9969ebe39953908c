#include "api/verified_tokens.hpp"

#include <gtest/gtest.h>

namespace betsdb::api {
namespace {

KnownToken user(std::int64_t id) {
  return KnownToken{http::Principal::user(id), std::nullopt, std::chrono::steady_clock::now()};
}

std::optional<std::int64_t> user_id(const VerifiedTokens& tokens, const Digest& digest) {
  auto known = tokens.find(digest);
  return known ? std::optional(known->principal.user_id) : std::nullopt;
}

TEST(VerifiedTokens, FindsOnlyWhatItRemembers) {
  VerifiedTokens tokens(10);
  const Digest alice = sha256("alice's token");
  const Digest bob = sha256("bob's token");
  tokens.remember(alice, user(7));
  EXPECT_EQ(user_id(tokens, alice), 7);
  EXPECT_EQ(user_id(tokens, bob), std::nullopt);
}

TEST(VerifiedTokens, ForgetsARevokedToken) {
  VerifiedTokens tokens(10);
  const Digest alice = sha256("alice's token");
  const Digest again = sha256("alice's second token");
  tokens.remember(alice, user(7));
  tokens.remember(again, user(7));
  tokens.forget(alice);
  EXPECT_EQ(user_id(tokens, alice), std::nullopt);
  EXPECT_EQ(user_id(tokens, again), 7);
}

TEST(VerifiedTokens, KeepsAnOperatorsRole) {
  VerifiedTokens tokens(10);
  const Digest trader = sha256("trader");
  tokens.remember(trader,
                  KnownToken{http::Principal::operator_account(3, http::Principal::Role::trader),
                             std::nullopt, std::chrono::steady_clock::now()});
  auto known = tokens.find(trader);
  ASSERT_TRUE(known);
  EXPECT_TRUE(known->principal.may_trade());
  EXPECT_FALSE(known->principal.may_read_accounts());
  EXPECT_EQ(known->principal.actor(), "operator:3");
}

TEST(VerifiedTokens, DigestsSharingTheirHashBytesStayApart) {
  // The hash reads the first 8 bytes only; equality must still use all 32.
  VerifiedTokens tokens(10);
  Digest a{};
  Digest b{};
  b[31] = 1;
  tokens.remember(a, user(1));
  tokens.remember(b, user(2));
  EXPECT_EQ(user_id(tokens, a), 1);
  EXPECT_EQ(user_id(tokens, b), 2);
}

TEST(VerifiedTokens, StartsOverWhenFullButKeepsTheNewest) {
  VerifiedTokens tokens(2);
  const Digest one = sha256("1"), two = sha256("2"), three = sha256("3");
  tokens.remember(one, user(1));
  tokens.remember(two, user(2));
  tokens.remember(two, user(2));  // known already: not a reason to start over
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(user_id(tokens, one), 1);
  tokens.remember(three, user(3));
  EXPECT_EQ(tokens.size(), 1u);
  EXPECT_EQ(user_id(tokens, three), 3);
  EXPECT_EQ(user_id(tokens, one), std::nullopt);
}

TEST(VerifiedTokens, KeepsASessionsExpiryExactlyAndItsAgeToTheSecondRoundedUp) {
  VerifiedTokens tokens(10);
  const Digest session = sha256("session");
  const domain::Timestamp expires{std::chrono::microseconds(1'796'000'000'123'456)};
  const auto verified = std::chrono::steady_clock::time_point(std::chrono::milliseconds(7'500));
  tokens.remember(session, KnownToken{http::Principal::user(42), expires, verified});
  auto known = tokens.find(session);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->principal.user_id, 42);
  EXPECT_EQ(known->principal.operator_id, 0);
  EXPECT_EQ(known->expires_at, expires);
  // Verified at 7.5 s reads as 7.5 s (a half is exact in 1/65536ths).
  EXPECT_EQ(known->verified_at, verified);
  // Any other time reads as at most 16 us earlier, never later: trusted a
  // little less, never more.
  const auto odd = verified + std::chrono::nanoseconds(123'456'789);
  tokens.remember(session, KnownToken{http::Principal::user(42), expires, odd});
  const auto read = tokens.find(session)->verified_at;
  EXPECT_LE(read, odd);
  EXPECT_GT(read, odd - std::chrono::microseconds(16));
}

TEST(VerifiedTokens, ASignUpTokenHasNoExpiry) {
  VerifiedTokens tokens(10);
  const Digest token = sha256("sign-up token");
  tokens.remember(token, user(9));
  auto known = tokens.find(token);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->expires_at, std::nullopt);
  EXPECT_EQ(known->principal.kind, http::Principal::Kind::user);
}

}  // namespace
}  // namespace betsdb::api
