// Use cases for users and their money: sign-up, look-up, deposits, the ledger.
#pragma once

#include <optional>
#include <string>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "service/context.hpp"
#include "store/pg/user_store.hpp"

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
Async<store::Deposit> deposit(Context& ctx, std::int64_t user_id, domain::Money amount);
// user_not_found.
Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                                domain::Page page);

}  // namespace betsdb::service
