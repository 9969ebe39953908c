#include "util/password.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <tuple>

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
  EXPECT_FALSE(verify_password(decoy_password_hash(), ""));
}

// The decoy must cost what a real hash costs: the same algorithm and
// parameters, a salt and a digest of the same lengths; only their bytes differ.
TEST(Password, TheDecoyHasTheShapeAndParametersOfARealHash) {
  auto real = hash_password("correct horse battery staple");
  ASSERT_TRUE(real.ok());
  const std::string& decoy = decoy_password_hash();
  auto shape = [](const std::string& encoded) {
    // $argon2id$v=19$m=...,t=...,p=...$salt$digest: the parameters, and the lengths of the rest.
    const auto salt_at = encoded.rfind('$', encoded.rfind('$') - 1);
    const auto digest_at = encoded.rfind('$');
    return std::make_tuple(encoded.substr(0, salt_at), digest_at - salt_at - 1,
                           encoded.size() - digest_at - 1);
  };
  EXPECT_EQ(shape(decoy), shape(*real)) << decoy << " vs " << *real;
  EXPECT_EQ(crypto_pwhash_str_needs_rehash(decoy.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE),
            0)
      << "libsodium reads other parameters from the decoy";
  EXPECT_EQ(decoy_password_hash(), decoy) << "made once";
}

}  // namespace
}  // namespace betsdb
