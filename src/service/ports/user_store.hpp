// What the use cases need of the stored users and their ledger.
//
// Errors: service_unavailable when the database cannot answer; conflict
// (with the constraint's name) for a unique violation. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>
#include <optional>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "service/ports/account_store.hpp"
#include "service/ports/async.hpp"
#include "util/token.hpp"

namespace betsdb::service {

// The constraint a second sign-up with a taken email violates.
inline constexpr std::string_view kEmailTaken = "users_email_key";

class UserStore {
 public:
  virtual ~UserStore() = default;

  // conflict kEmailTaken when the email is registered already.
  virtual Async<domain::User> insert(const domain::NewUser& user) = 0;
  virtual Async<std::optional<domain::User>> find(std::int64_t user_id) = 0;
  // Audited as `actor`'s. `key`: the digest of the request's Idempotency-Key;
  // a key that made a deposit for the user already makes none, and the
  // outcome names that deposit (DepositOutcome::earlier).
  virtual Async<domain::DepositOutcome> deposit(std::int64_t user_id, domain::Money amount,
                                                const std::optional<Digest>& key,
                                                const domain::Actor& actor) = 0;
  virtual Async<domain::ListPage<domain::LedgerEntry>> ledger(std::int64_t user_id,
                                                              domain::Page page) = 0;
  // Newest first.
  virtual Async<domain::ListPage<domain::User>> list(const domain::UserFilter& filter,
                                                     domain::Page page) = 0;
};

}  // namespace betsdb::service
