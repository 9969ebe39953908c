// Accounts and access as values: operators and their roles, sessions, the
// audit's entries, and the rules on passwords. Who may call which route is
// the api layer's (api/auth.hpp); what an account is, is here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/timestamp.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

enum class OperatorRole { admin, trader, support };
std::string_view to_string(OperatorRole role) noexcept;
std::optional<OperatorRole> parse_operator_role(std::string_view text) noexcept;

// Whose credentials: a bettor's or an operator's.
struct Account {
  enum class Kind { user, operator_account };
  Kind kind = Kind::user;
  std::int64_t id = 0;
  OperatorRole role = OperatorRole::support;  // operators only

  bool is_operator() const { return kind == Kind::operator_account; }
};

// What signing in checks: the account behind an email and its password hash
// (empty for a user who signed up without a password: nothing matches it).
struct Credentials {
  Account account;
  std::string password_hash;
};

// A bearer token's account, as long as it is valid. Sign-up tokens never
// expire (expires_at empty); sessions from signing in do.
struct Session {
  Account account;
  std::optional<Timestamp> expires_at;
};

struct Operator {
  std::int64_t id = 0;
  std::string email;
  OperatorRole role = OperatorRole::support;
  Timestamp created_at;
  std::optional<Timestamp> disabled_at;  // a disabled operator cannot sign in
};

// What an admin changes of an operator: each part only when set.
struct OperatorChange {
  std::optional<OperatorRole> role;
  std::optional<bool> disabled;
};

// An operator after a change, what it was before, and the digests of the
// sessions whose tokens must be marked revoked: those the change ended (a
// new role or a disable ends them all), and those ended recently, which a
// retried change marks again.
struct OperatorChanged {
  Operator now;
  OperatorRole role_before = OperatorRole::support;
  bool disabled_before = false;
  std::vector<std::array<std::uint8_t, 32>> sessions_to_mark;  // SHA-256 digests

  bool role_changed() const { return now.role != role_before; }
};

// A new password for an account, set by its holder (who proved the one on
// file: `expected_hash`, the hash that proof was checked against, empty for
// an account that had none) or by an admin for an operator (nullopt: set
// whatever was on file). The sessions of the account end, a user's sign-up
// token with them, but the one it was asked with (`kept_session`, a SHA-256
// digest).
struct PasswordChange {
  Account account;
  std::string new_hash;
  std::optional<std::string> expected_hash;
  std::optional<std::array<std::uint8_t, 32>> kept_session;
};

// The name an operator's revocation marks and audit entries go by.
std::string operator_name(std::int64_t operator_id);
// The name an account's revocation marks go by: operator_name for an
// operator, the id for a user.
std::string account_name(const Account& account);

// One operator write on record. details is a JSON object's text.
struct AuditEntry {
  std::int64_t id = 0;
  Timestamp at;
  std::string actor;   // "owner" or "operator:<id>"
  std::string action;  // "match.create", ...
  std::string target;  // "match:<id>", "user:<id>", "operator:<id>"
  std::string request_id;
  std::string details = "{}";
};

// Who makes an operator write, and for which request: every such write
// appends an AuditEntry with these in the same transaction.
struct Actor {
  std::string name;  // "owner" or "operator:<id>"
  std::string request_id;
};

// The audit's actions; the text is the API's.
enum class AuditAction {
  match_create,
  match_update,
  match_suspend,
  match_resume,
  match_settle,
  user_create,
  user_deposit,
  operator_create,
  operator_update,
  operator_password,
};
std::string_view to_string(AuditAction action) noexcept;
std::optional<AuditAction> parse_audit_action(std::string_view text) noexcept;
// True for "owner" and "operator:<positive id>".
bool is_actor_name(std::string_view text) noexcept;

// A new password: 8 to 128 characters (code points), any of them.
// validation_failed on `field` otherwise.
Result<std::string> password_from(std::string_view text, std::string_view field);

// How long a session from signing in lasts.
inline constexpr std::chrono::hours kSessionLifetime{24 * 30};

}  // namespace betsdb::domain
