// SQL for users and their ledger. Every balance change is one statement that
// updates the balance and writes its ledger row together, so the invariant
// balance == sum(ledger.amount) holds after every commit.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "store/pg/pool.hpp"
#include "util/token.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

// conflict "users_email_key" when the email is taken.
Async<domain::User> insert_user(pg::Pool& db, const domain::NewUser& user);
Async<std::optional<domain::User>> find_user(pg::Pool& db, std::int64_t id);
// Audited as `actor`'s, in the same statement. With `key` (the digest of an
// Idempotency-Key), recorded with the deposit in that statement; a key that
// made a deposit for the user already makes none and answers that one
// (DepositOutcome::earlier), also when the two raced.
Async<domain::DepositOutcome> deposit(pg::Pool& db, std::int64_t user_id, domain::Money amount,
                                      const std::optional<Digest>& key, const domain::Actor& actor);
Async<domain::ListPage<domain::LedgerEntry>> list_ledger(pg::Pool& db, std::int64_t user_id,
                                                         domain::Page page);
// Newest first.
Async<domain::ListPage<domain::User>> list_users(pg::Pool& db, const domain::UserFilter& filter,
                                                 domain::Page page);

}  // namespace betsdb::store
