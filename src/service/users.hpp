// Use cases for users and their money: sign-up, look-up, deposits, the
// ledger, and who a bearer token belongs to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
// user_not_found. Audited as `actor`'s.
Async<domain::Deposit> deposit(Context& ctx, std::int64_t user_id, domain::Money amount,
                               const domain::Actor& actor);
// user_not_found.
Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                               domain::Page page);
// Support finding an account: newest first, straight from the database (not
// cached: it answers who exists now).
Async<domain::ListPage<domain::User>> list_users(Context& ctx, const domain::UserFilter& filter,
                                                 domain::Page page);

}  // namespace betsdb::service
