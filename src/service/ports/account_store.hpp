// What the use cases need of stored accounts: credentials, sessions,
// operators and the audit (PostgreSQL behind it in production).
//
// Errors: service_unavailable when the database cannot answer; conflict
// (with the constraint's name) for a unique violation. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "domain/account.hpp"
#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "service/ports/async.hpp"
#include "util/token.hpp"

namespace betsdb::service {

// The constraint any account (user or operator) with a taken email violates.
inline constexpr std::string_view kAccountEmailTaken = "account_emails_email_key";

struct AuditQuery {
  std::optional<std::string> actor;   // "owner" or "operator:<id>"
  std::optional<std::string> action;  // "match.create", ...
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  virtual Async<std::optional<domain::Credentials>> credentials(const std::string& email) = 0;
  // The valid session or sign-up token with this digest at `now`.
  virtual Async<std::optional<domain::Session>> session(const Digest& digest,
                                                        domain::Timestamp now) = 0;
  // The account's password hash ('' for none); nullopt for an
  // unknown account.
  virtual Async<std::optional<domain::Credentials>> password(const domain::Account& account) = 0;
  // False (nothing added) when `password_hash`, the one the sign-in checked,
  // is no longer the account's, or for an operator that is disabled, even
  // when that changed while the sign-in was under way.
  virtual Async<bool> add_session(const Digest& digest, const domain::Account& account,
                                  const std::string& password_hash,
                                  domain::Timestamp expires_at) = 0;
  // In one transaction: sets the password (audited for an operator) unless
  // change.expected_hash is set and no longer on file, or the operator
  // changing its own was disabled (nullopt; also for an unknown account),
  // and ends the account's live sessions and a user's sign-up token but the
  // kept one. Names them, with those ended within `also_ended_within` (a
  // retry's), to be marked revoked.
  virtual Async<std::optional<std::vector<Digest>>> change_password(
      const domain::PasswordChange& change, const domain::Actor& actor,
      std::chrono::seconds also_ended_within) = 0;
  // False when no valid token had this digest.
  virtual Async<bool> revoke(const Digest& digest) = 0;
  // conflict kAccountEmailTaken when the email is taken. Audited.
  virtual Async<domain::Operator> add_operator(const std::string& email, domain::OperatorRole role,
                                               const std::string& password_hash,
                                               const domain::Actor& actor) = 0;
  virtual Async<domain::ListPage<domain::Operator>> operators(domain::Page page) = 0;
  // In one transaction: applies the change and audits it; a new role or a
  // disable revokes the operator's live sessions. Names the sessions whose
  // tokens to mark revoked: those, and (when the change names a role or a
  // disable: perhaps a retry) those revoked within `also_ended_within`.
  // nullopt for an unknown operator.
  virtual Async<std::optional<domain::OperatorChanged>> update_operator(
      std::int64_t operator_id, const domain::OperatorChange& change, const domain::Actor& actor,
      std::chrono::seconds also_ended_within) = 0;
  virtual Async<domain::ListPage<domain::AuditEntry>> audit(const AuditQuery& query,
                                                            domain::Page page) = 0;
};

}  // namespace betsdb::service
