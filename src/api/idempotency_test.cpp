#include "api/idempotency.hpp"

#include <gtest/gtest.h>

namespace betsdb::api {
namespace {

// The contract compares an Idempotency-Key's bodies "as JSON values, so key
// order and whitespace do not matter".

TEST(BodyFingerprint, IsStableForTheSameBytes) {
  const std::string body = R"({"user_id":7,"match_id":3,"selection":"1","stake":1000})";
  EXPECT_EQ(body_fingerprint(body), body_fingerprint(body));
  EXPECT_FALSE(body_fingerprint(body).empty());
}

TEST(BodyFingerprint, IgnoresKeyOrder) {
  EXPECT_EQ(body_fingerprint(R"({"user_id":7,"match_id":3,"selection":"1","stake":1000})"),
            body_fingerprint(R"({"stake":1000,"selection":"1","match_id":3,"user_id":7})"));
}

TEST(BodyFingerprint, IgnoresKeyOrderInNestedObjects) {
  EXPECT_EQ(body_fingerprint(R"({"odds":{"1":2.5,"X":3.1},"a":[{"p":1,"q":2}]})"),
            body_fingerprint(R"({"a":[{"q":2,"p":1}],"odds":{"X":3.1,"1":2.5}})"));
}

TEST(BodyFingerprint, IgnoresWhitespace) {
  EXPECT_EQ(body_fingerprint(R"({"user_id":7,"stake":1000})"),
            body_fingerprint(" {\n\t\"user_id\" :  7 ,\r\n  \"stake\":1000 }\n"));
}

TEST(BodyFingerprint, ComparesNumbersByValueNotSpelling) {
  EXPECT_EQ(body_fingerprint(R"({"odds":2.1})"), body_fingerprint(R"({"odds":2.10})"));
  EXPECT_EQ(body_fingerprint(R"({"odds":2.1})"), body_fingerprint(R"({"odds":2.100})"));
  EXPECT_EQ(body_fingerprint(R"({"odds":2.1})"), body_fingerprint(R"({"odds":21e-1})"));
  EXPECT_EQ(body_fingerprint(R"({"odds":2})"), body_fingerprint(R"({"odds":2.0})"));
  EXPECT_EQ(body_fingerprint(R"({"stake":1000})"), body_fingerprint(R"({"stake":1e3})"));
  EXPECT_NE(body_fingerprint(R"({"odds":2})"), body_fingerprint(R"({"odds":2.01})"));
}

TEST(BodyFingerprint, ComparesStringsByValueNotEscaping) {
  EXPECT_EQ(body_fingerprint(R"({"selection":"X"})"),
            body_fingerprint(R"({"selection":"\u0058"})"));
}

TEST(BodyFingerprint, DifferentValuesDiffer) {
  const std::string base = R"({"user_id":7,"match_id":3,"selection":"1","stake":1000})";
  const std::string variants[] = {
      R"({"user_id":7,"match_id":3,"selection":"1","stake":1001})",
      R"({"user_id":7,"match_id":4,"selection":"1","stake":1000})",
      R"({"user_id":8,"match_id":3,"selection":"1","stake":1000})",
      R"({"user_id":7,"match_id":3,"selection":"X","stake":1000})",
      R"({"user_id":7,"match_id":3,"selection":"1","stake":"1000"})",
      R"({"user_id":7,"match_id":3,"selection":"1","stake":null})",
      R"({"user_id":7,"match_id":3,"selection":"1"})",
      R"({"user_id":7,"match_id":3,"selection":"1","stake":1000,"extra":true})",
      R"({"user_id":7,"match_id":3,"selection":"1","Stake":1000})",
      R"([{"user_id":7,"match_id":3,"selection":"1","stake":1000}])",
  };
  const std::string expected = body_fingerprint(base);
  for (const auto& variant : variants) EXPECT_NE(body_fingerprint(variant), expected) << variant;
}

TEST(BodyFingerprint, DistinguishesCloseNumbers) {
  EXPECT_NE(body_fingerprint(R"({"odds":2.1})"), body_fingerprint(R"({"odds":2.11})"));
  EXPECT_NE(body_fingerprint(R"({"odds":2.1})"), body_fingerprint(R"({"odds":2.09})"));
}

TEST(BodyFingerprint, ArrayOrderMatters) {
  EXPECT_NE(body_fingerprint(R"({"a":[1,2]})"), body_fingerprint(R"({"a":[2,1]})"));
}

TEST(BodyFingerprint, MovingAMemberIntoAnotherObjectDiffers) {
  EXPECT_NE(body_fingerprint(R"({"a":{"b":1},"c":2})"), body_fingerprint(R"({"a":{"b":1,"c":2}})"));
}

// API.md on checkout: "no body or {}"; a retry may send either.
TEST(BodyFingerprint, NoBodyIsTheSameRequestAsAnEmptyObject) {
  EXPECT_EQ(body_fingerprint(""), body_fingerprint("{}"));
  EXPECT_EQ(body_fingerprint(""), body_fingerprint(" { }\n"));
  EXPECT_NE(body_fingerprint(""), body_fingerprint("[]"));
  EXPECT_NE(body_fingerprint(""), body_fingerprint(R"({"a":1})"));
}

TEST(BodyFingerprint, NonJsonBodiesCompareByBytes) {
  EXPECT_EQ(body_fingerprint("not json"), body_fingerprint("not json"));
  EXPECT_NE(body_fingerprint("not json"), body_fingerprint("not json "));
  EXPECT_NE(body_fingerprint(R"({"a":1)"), body_fingerprint(R"({"a":1})"));
}

}  // namespace
}  // namespace betsdb::api
