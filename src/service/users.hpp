// Use cases for users and their money: sign-up, look-up, deposits, the
// ledger, and who a bearer token belongs to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "service/context.hpp"
#include "util/token.hpp"

namespace betsdb::service {

struct SignUp {
  std::string email;  // normalised
  std::string name;   // normalised
  domain::Money initial_balance;
  std::optional<std::string> password;  // checked (domain::password_from)
  std::optional<domain::Actor> actor;   // staff creating the user: audited
};

struct SignedUp {
  domain::User user;
  std::string token;  // shown once; only its digest is stored
};

// email_taken when the (normalised) email is registered already.
Async<SignedUp> sign_up(Context& ctx, SignUp request);
// user_not_found.
Async<domain::User> get_user(Context& ctx, std::int64_t user_id);
struct DepositAnswer {
  domain::Deposit deposit;
  bool replayed = false;  // made earlier under the same Idempotency-Key
};

// user_not_found, betting_paused, deposit_limit_exceeded. Audited as
// `actor`'s. With an Idempotency-Key (`key`: 1..255 printable ASCII,
// checked by the caller), at most one deposit is ever made under it for the
// user: a retry answers that deposit again (replayed), or
// idempotency_key_reused if it asks for another amount. Only a made deposit
// is recorded: a refused one may be retried under the same key.
Async<DepositAnswer> deposit(Context& ctx, std::int64_t user_id, domain::Money amount,
                             std::optional<std::string_view> key, const domain::Actor& actor);
// user_not_found.
Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                               domain::Page page);
// Support finding an account: newest first, straight from the database (not
// cached: it answers who exists now).
Async<domain::ListPage<domain::User>> list_users(Context& ctx, const domain::UserFilter& filter,
                                                 domain::Page page);

}  // namespace betsdb::service
