#include "domain/account.hpp"

#include <gtest/gtest.h>

namespace betsdb::domain {
namespace {

TEST(Account, RolesAndActionsRoundTripTheirNames) {
  for (auto role : {OperatorRole::admin, OperatorRole::trader, OperatorRole::support}) {
    EXPECT_EQ(parse_operator_role(to_string(role)), role);
  }
  EXPECT_FALSE(parse_operator_role("owner"));
  EXPECT_FALSE(parse_operator_role("Admin"));
  EXPECT_EQ(parse_audit_action("match.settle"), AuditAction::match_settle);
  EXPECT_EQ(to_string(AuditAction::operator_create), "operator.create");
  EXPECT_FALSE(parse_audit_action("match.delete"));
}

TEST(Account, ActorNamesAreTheOwnerOrAnOperatorWithAPositiveId) {
  EXPECT_TRUE(is_actor_name("owner"));
  EXPECT_TRUE(is_actor_name("operator:7"));
  EXPECT_FALSE(is_actor_name("operator:0"));
  EXPECT_FALSE(is_actor_name("operator:07"));
  EXPECT_FALSE(is_actor_name("operator:-1"));
  EXPECT_FALSE(is_actor_name("operator:"));
  EXPECT_FALSE(is_actor_name("operator:7x"));
  EXPECT_FALSE(is_actor_name("user:7"));
}

TEST(Account, PasswordsHave8To128CodePoints) {
  EXPECT_FALSE(password_from("1234567", "password").ok());
  EXPECT_TRUE(password_from("12345678", "password").ok());
  EXPECT_TRUE(password_from(std::string(128, 'a'), "password").ok());
  EXPECT_FALSE(password_from(std::string(129, 'a'), "password").ok());
  // Eight characters of two bytes each: counted as eight.
  EXPECT_TRUE(password_from("éééééééé", "password").ok());
  EXPECT_FALSE(password_from("ééé", "password").ok());
  auto refused = password_from("short", "password");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field_errors.at(0).field, "password");
}

}  // namespace
}  // namespace betsdb::domain
