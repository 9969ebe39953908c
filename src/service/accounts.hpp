// Use cases of accounts and access: signing in and out, who a bearer token
// belongs to, the rate limits on sign-ins and sign-ups, operators, and the
// audit's reading side.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "domain/account.hpp"
#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "service/context.hpp"
#include "util/token.hpp"

namespace betsdb::service {

// Failed sign-ins one email may have in a window before the next is refused.
inline constexpr std::int64_t kSignInFailureLimit = 10;
inline constexpr std::chrono::minutes kSignInWindow{15};
inline constexpr std::chrono::minutes kSignUpWindow{1};
// How long a process may trust a token it verified without asking the
// database again, and how long a revocation mark lives (longer, so every
// process that could still trust the token sees the mark).
inline constexpr std::chrono::minutes kTokenTrust{5};
inline constexpr std::chrono::hours kRevocationMarkLife{1};

struct SignedIn {
  std::string token;  // shown once; only its digest is stored
  domain::Account account;
  domain::Timestamp expires_at;
};

// invalid_credentials for an unknown email, a wrong password or an account
// without one, alike in answer and time; too_many_requests once the email
// has kSignInFailureLimit failures in the window, or while `client` (its
// address block, http::client_block) has as many sign-ins under way as the
// password pool allows one client (password_pool.hpp).
Async<SignedIn> sign_in(Context& ctx, const std::string& email, std::string password,
                        const std::string& client);
// A password change: by the account's holder, who proves the password on
// file (if it has one) and keeps the session it asks with, or by an admin
// for an operator (a reset: nothing to prove, every session ends).
struct PasswordChangeRequest {
  domain::Account account;             // whose password
  bool by_holder = true;               // false: an admin's reset of an operator's
  std::optional<std::string> current;  // the holder's proof
  std::string new_password;            // already checked (domain::password_from)
  std::optional<Digest> asked_with;    // the holder's token, whose session stays
};
// Sets the new password and ends the account's other sessions, in the
// database and by a mark in Redis for each, before the answer (as
// update_operator does, with its service_unavailable if a mark failed).
// For a holder: validation_failed (current_password) when the account has a
// password and none was given; wrong_password when it does not match (counted
// as a failed sign-in of the account's email), or was changed meanwhile;
// too_many_requests as sign_in's. user_not_found / operator_not_found for an
// unknown account.
Async<void> change_password(Context& ctx, PasswordChangeRequest request, const domain::Actor& actor,
                            const std::string& client);
// Revokes the token with this digest, of `account` ("7", "operator:3");
// false when it was not valid.
Async<bool> sign_out(Context& ctx, const std::string& account, const Digest& digest);
// The token's session; nullopt for an unknown, expired or revoked token.
// One database look-up: callers remember the answers (api/auth.hpp).
Async<std::optional<domain::Session>> session_for_token(Context& ctx, const Digest& digest);
// Whether a token was revoked since a process verified it (a Redis read).
Async<RevocationCheck> token_revoked(Context& ctx, const std::string& account,
                                     const Digest& digest);

// too_many_requests when `client_address` signed up ctx.signup_rate_limit
// times in the current window; nothing when the limit is off (0).
Async<void> count_sign_up(Context& ctx, const std::string& client_address);

// email_taken when any account has the email.
Async<domain::Operator> create_operator(Context& ctx, const std::string& email,
                                        domain::OperatorRole role, std::string password,
                                        const domain::Actor& actor);
Async<domain::ListPage<domain::Operator>> list_operators(Context& ctx, domain::Page page);
// Applies and audits `change`; operator_not_found for an unknown id. A new
// role or a disable revokes every session of the operator, in the database
// and by a mark in Redis for each (as a sign-out's), before the answer;
// service_unavailable if a mark failed (retried in the background; the
// change and the revocations stand, and the same change again marks them
// again).
Async<domain::Operator> update_operator(Context& ctx, std::int64_t operator_id,
                                        const domain::OperatorChange& change,
                                        const domain::Actor& actor);
Async<domain::ListPage<domain::AuditEntry>> list_audit(Context& ctx, const AuditQuery& query,
                                                       domain::Page page);

}  // namespace betsdb::service
