#include "util/password.hpp"

#include <gtest/gtest.h>

namespace betsdb {
namespace {

TEST(Password, HashesWithArgon2idAndVerifiesOnlyTheRightPassword) {
  auto hash = hash_password("correct horse battery staple");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password(*hash, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(verify_password(*hash, ""));
}

TEST(Password, SaltsEveryHash) {
  auto a = hash_password("same password");
  auto b = hash_password("same password");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(Password, AMalformedHashIsAMismatch) {
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "x"));
  EXPECT_FALSE(verify_password(std::string(500, 'a'), "x"));
}

TEST(Password, TheDecoyMatchesNoGuess) {
  EXPECT_TRUE(decoy_password_hash().starts_with("$argon2id$"));
  EXPECT_FALSE(verify_password(decoy_password_hash(), "password"));
}

}  // namespace
}  // namespace betsdb
