// Use cases for users and their money: sign-up, look-up, deposits, the
// ledger, and who a bearer token belongs to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "service/context.hpp"
#include "util/token.hpp"

namespace betsdb::service {

struct SignUp {
  std::string email;  // normalised
  std::string name;   // normalised
  domain::Money initial_balance;
};

struct SignedUp {
  domain::User user;
  std::string token;  // shown once; only its digest is stored
};

// email_taken when the (normalised) email is registered already.
Async<SignedUp> sign_up(Context& ctx, SignUp request);
// user_not_found.
Async<domain::User> get_user(Context& ctx, std::int64_t user_id);
// user_not_found.
Async<domain::Deposit> deposit(Context& ctx, std::int64_t user_id, domain::Money amount);
// user_not_found.
Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                               domain::Page page);
// The user whose token has this digest; nullopt for an unknown token. One
// database look-up each time: callers remember the answers (api/auth.hpp).
Async<std::optional<std::int64_t>> user_for_token(Context& ctx, const Digest& digest);

}  // namespace betsdb::service
