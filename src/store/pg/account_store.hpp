// SQL for accounts and access: credentials by email, sessions (and the
// sign-up tokens in users.token_hash), operators, and the audit.
//
// The audit is written by the statement that makes the change it records
// (insert_audit_sql below, used by every operator write), so an entry exists
// exactly when its change committed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "domain/account.hpp"
#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "store/pg/pool.hpp"
#include "util/token.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

Async<std::optional<domain::Credentials>> find_credentials(pg::Pool& db, const std::string& email);
// The valid (unexpired, unrevoked) session or sign-up token with this digest.
Async<std::optional<domain::Session>> find_session(pg::Pool& db, const Digest& digest,
                                                   domain::Timestamp now);
// The account's password hash ('' for none); nullopt for an
// unknown account.
Async<std::optional<domain::Credentials>> find_password(pg::Pool& db,
                                                        const domain::Account& account);
// False (nothing inserted) when `password_hash`, which the sign-in checked,
// is no longer the account's, or the account is an operator that is disabled.
Async<bool> insert_session(pg::Pool& db, const Digest& digest, const domain::Account& account,
                           const std::string& password_hash, domain::Timestamp expires_at);
// True when a valid session or sign-up token with this digest was revoked now.
Async<bool> revoke_session(pg::Pool& db, const Digest& digest);

struct NewOperator {
  std::string email;
  domain::OperatorRole role = domain::OperatorRole::support;
  std::string password_hash;
};
// conflict "account_emails_email_key" when the email belongs to any account.
Async<domain::Operator> insert_operator(pg::Pool& db, const NewOperator& op,
                                        const domain::Actor& actor);

// Every operator, newest (largest id) first.
Async<domain::ListPage<domain::Operator>> list_operators(pg::Pool& db, domain::Page page);
// In one transaction: applies `change` and audits it (unless it changed
// nothing); then, for a new role or a disable, revokes the operator's live
// sessions. Names the sessions to mark revoked (domain::OperatorChanged),
// with those revoked within `also_ended_within` when `change` names a role or
// a disable (a retry's). nullopt for an unknown id.
Async<std::optional<domain::OperatorChanged>> update_operator(
    pg::Pool& db, std::int64_t operator_id, const domain::OperatorChange& change,
    const domain::Actor& actor, std::chrono::seconds also_ended_within);

// In one transaction: sets the password (an operator's audited as
// operator.password), unless change.expected_hash is set and no longer on
// file, or the operator changing its own is disabled (nullopt; also for an
// unknown account); then ends the account's live sessions, and a user's
// sign-up token, but change.kept_session. Names them, with those ended
// within `also_ended_within` (a retry's), to be marked revoked.
Async<std::optional<std::vector<Digest>>> change_password(pg::Pool& db,
                                                          const domain::PasswordChange& change,
                                                          const domain::Actor& actor,
                                                          std::chrono::seconds also_ended_within);

struct AuditFilter {
  std::optional<std::string> actor;
  std::optional<std::string> action;
};
Async<domain::ListPage<domain::AuditEntry>> list_audit(pg::Pool& db, const AuditFilter& filter,
                                                       domain::Page page);

}  // namespace betsdb::store
