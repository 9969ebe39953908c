#include "store/pg/user_store.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

std::string bytea_param(const Digest& d) {
  return "\\x" + to_hex(d);
}

// One statement: the user, for an initial balance its deposit row, and when
// staff ($6 the actor, $7 the request) created it, its audit entry.
constexpr pg::Statement kInsertUser{"insert_user", R"sql(
WITH u AS (
  INSERT INTO users (email, name, balance, token_hash, password_hash, deposits_total, deposited_at)
  VALUES ($1, $2, $3::bigint, $4::bytea, $5, $3::bigint, CASE WHEN $3::bigint > 0 THEN now() END)
  RETURNING *
), l AS (
  INSERT INTO ledger (user_id, kind, amount, balance_after, running_total, created_at)
  SELECT id, 'deposit', $3::bigint, $3::bigint, $3::bigint, deposited_at FROM u WHERE $3::bigint > 0
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $6, 'user.create', 'user:' || id, $7,
         jsonb_build_object('email', email, 'balance', balance)
  FROM u WHERE $6::text IS NOT NULL
)
SELECT )sql" BETSDB_USER_COLUMNS R"sql( FROM u)sql"};

constexpr pg::Statement kFindUser{"find_user",
                                  "SELECT " BETSDB_USER_COLUMNS " FROM users WHERE id = $1"};

// A deposit, unless the user has paused their betting or it would pass one
// of their deposit limits, or its Idempotency-Key ($5, a digest or NULL) made
// one already: the user's row is the turn (as for stakes,
// store/pg/bet_store.cpp), so concurrent deposits never pass a limit
// together. The last three columns: whether the user exists, and, when
// nothing was deposited, whether a limit or a pause (until when) refused it.
constexpr pg::Statement kDeposit{"deposit", R"sql(
WITH u AS (
  UPDATE users SET balance = balance + $2::bigint, deposits_total = deposits_total + $2::bigint,
                   deposited_at = greatest(deposited_at, now())
  WHERE id = $1 AND coalesce(self_excluded_until, '-infinity') <= now()
    AND coalesce(timeout_until, '-infinity') <= now()
    AND (NOT limits_set OR within_limits(id, 'deposit', deposits_total, $2::bigint))
    AND NOT EXISTS (SELECT 1 FROM deposit_keys WHERE user_id = $1 AND key_digest = $5::bytea)
  RETURNING id, balance, deposits_total, deposited_at
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $3, 'user.deposit', 'user:' || id, $4, jsonb_build_object('amount', $2::bigint)
  FROM u
), l AS (
  INSERT INTO ledger (user_id, kind, amount, balance_after, running_total, created_at)
  SELECT id, 'deposit', $2::bigint, balance, deposits_total, deposited_at FROM u
  RETURNING )sql" BETSDB_LEDGER_COLUMNS R"sql(
), k AS (
  -- A concurrent deposit under the same key that committed while this one
  -- waited for the user's row (its NOT EXISTS read the snapshot from before)
  -- makes this insert fail, and the whole statement with it: never two.
  INSERT INTO deposit_keys (user_id, key_digest, ledger_id)
  SELECT $1, $5::bytea, id FROM l WHERE $5::bytea IS NOT NULL
)
SELECT l.*, EXISTS (SELECT 1 FROM users WHERE id = $1),
       CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN exceeds_limits($1, 'deposit', $2::bigint) END,
       CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN
         )sql" BETSDB_SQL_MICROS("betting_paused_until($1)") R"sql( END
FROM (VALUES (1)) AS one (n) LEFT JOIN l ON true)sql"};

constexpr std::string_view kDepositKeyTaken = "deposit_keys_pkey";

// The deposit an Idempotency-Key made for the user.
constexpr pg::Statement kKeyedDeposit{"keyed_deposit", R"sql(
SELECT )sql" BETSDB_LEDGER_COLUMNS R"sql(
FROM ledger WHERE id = (SELECT ledger_id FROM deposit_keys WHERE user_id = $1 AND key_digest = $2))sql"};

constexpr pg::Statement kListLedger{"list_ledger", R"sql(
SELECT )sql" BETSDB_LEDGER_COLUMNS R"sql(, count(*) OVER ()
FROM ledger WHERE user_id = $1
ORDER BY id DESC LIMIT $2 OFFSET $3)sql"};

constexpr pg::Statement kCountLedger{"count_ledger",
                                     "SELECT count(*) FROM ledger WHERE user_id = $1"};

// Emails are stored lower-cased: $1 is a LIKE prefix pattern for the email
// index, $2 a containing pattern for the name's trigram index. A search and
// the whole list are separate statements, so the search's plan always
// carries its conditions (see the match search).
#define BETSDB_USER_SEARCH " WHERE email LIKE lower($1) OR lower(name) LIKE lower($2)"
constexpr pg::Statement kSearchUsers{
    "search_users", "SELECT " BETSDB_USER_COLUMNS ", count(*) OVER () FROM users" BETSDB_USER_SEARCH
                    " ORDER BY id DESC LIMIT $3 OFFSET $4"};
constexpr pg::Statement kCountUserSearch{"count_user_search",
                                         "SELECT count(*) FROM users" BETSDB_USER_SEARCH};
constexpr pg::Statement kListUsers{"list_users", "SELECT " BETSDB_USER_COLUMNS
                                                 ", count(*) OVER () FROM users"
                                                 " ORDER BY id DESC LIMIT $1 OFFSET $2"};
constexpr pg::Statement kCountUsers{"count_users", "SELECT count(*) FROM users"};

}  // namespace

Async<domain::User> insert_user(pg::Pool& db, const domain::NewUser& user) {
  std::optional<std::string> password_hash, actor, request_id;
  if (!user.password_hash.empty()) password_hash = user.password_hash;
  if (user.actor) {
    actor = user.actor->name;
    request_id = user.actor->request_id;
  }
  auto rows = co_await db.execute(
      kInsertUser, pg::params(user.email, user.name, user.initial_balance.cents(),
                              bytea_param(user.token_digest), password_hash, actor, request_id));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return user_from_row((*rows)[0]);
}

Async<std::optional<domain::User>> find_user(pg::Pool& db, std::int64_t id) {
  auto rows = co_await db.execute(kFindUser, pg::params(id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::User>{};
  co_return std::optional<domain::User>{user_from_row((*rows)[0])};
}

namespace {

// The deposit the key made for the user, if any.
Async<std::optional<domain::Deposit>> keyed_deposit(pg::Pool& db, std::int64_t user_id,
                                                    const std::string& key) {
  auto rows = co_await db.execute(kKeyedDeposit, pg::params(user_id, key));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Deposit>{};
  BETSDB_CO_TRY(auto entry, ledger_entry_from_row((*rows)[0]));
  co_return std::optional<domain::Deposit>{domain::Deposit{entry.balance_after, entry}};
}

Async<domain::DepositOutcome> made_earlier(pg::Pool& db, std::int64_t user_id,
                                           const std::string& key) {
  auto earlier = co_await keyed_deposit(db, user_id, key);
  if (!earlier.ok()) co_return std::move(earlier).error();
  if (!*earlier) co_return Error::internal("deposit: its key's deposit is gone");
  domain::DepositOutcome out;
  out.user_found = true;
  out.earlier = std::move(*earlier);
  co_return out;
}

}  // namespace

Async<domain::DepositOutcome> deposit(pg::Pool& db, std::int64_t user_id, domain::Money amount,
                                      const std::optional<Digest>& key,
                                      const domain::Actor& actor) {
  std::optional<std::string> key_param;
  if (key) key_param = bytea_param(*key);
  auto rows = co_await db.execute(
      kDeposit, pg::params(user_id, amount.cents(), actor.name, actor.request_id, key_param));
  if (!rows.ok()) {
    if (key_param && rows.error().is(Errc::conflict) &&
        rows.error().constraint == kDepositKeyTaken) {
      co_return co_await made_earlier(db, user_id, *key_param);
    }
    co_return std::move(rows).error();
  }
  if (rows->size() != 1) co_return Error::internal("deposit: one row expected");
  const pg::Row row = (*rows)[0];
  domain::DepositOutcome out;
  out.user_found = row.get<bool>(6);
  if (!row.is_null(0)) {
    BETSDB_CO_TRY(auto entry, ledger_entry_from_row(row));
    out.deposit = domain::Deposit{entry.balance_after, entry};
    co_return out;
  }
  if (key_param && out.user_found) {
    // Refused: by the key, which made a deposit already (also one that
    // committed while this one waited for the user's row, whose total may
    // now meet a limit: the statement read the key from the snapshot before),
    // or for a reason of its own, and then the key has made none.
    auto earlier = co_await keyed_deposit(db, user_id, *key_param);
    if (!earlier.ok()) co_return std::move(earlier).error();
    if (*earlier) {
      out.earlier = std::move(*earlier);
      co_return out;
    }
  }
  out.limit_short = row.get<std::optional<bool>>(7).value_or(false);
  if (auto paused = row.get<std::optional<std::int64_t>>(8))
    out.paused_until = timestamp_from_micros(*paused);
  co_return out;
}

Async<domain::ListPage<domain::LedgerEntry>> list_ledger(pg::Pool& db, std::int64_t user_id,
                                                         domain::Page page) {
  auto rows =
      co_await db.execute(kListLedger, pg::params(user_id, std::int64_t{page.limit}, page.offset));
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::LedgerEntry> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    BETSDB_CO_TRY(auto entry, ledger_entry_from_row((*rows)[i]));
    out.items.push_back(std::move(entry));
    out.total = (*rows)[i].get<std::int64_t>(6);
  }
  if (rows->empty() && page.offset > 0) {
    // Past the end the window count is absent: count separately.
    auto count = co_await db.execute(kCountLedger, pg::params(user_id));
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

Async<domain::ListPage<domain::User>> list_users(pg::Pool& db, const domain::UserFilter& filter,
                                                 domain::Page page) {
  pg::Params filters;
  if (filter.search) {
    filters = pg::params(pg::like_prefix(*filter.search), pg::like_containing(*filter.search));
  }
  pg::Params p = filters;
  p.emplace_back(std::to_string(page.limit));
  p.emplace_back(std::to_string(page.offset));
  auto rows = co_await db.execute(filter.search ? kSearchUsers : kListUsers, p);
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::User> out;
  out.items.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    out.items.push_back(user_from_row((*rows)[i]));
    out.total = (*rows)[i].get<std::int64_t>(kUserColumnCount);
  }
  if (rows->empty() && page.offset > 0) {
    auto count = co_await db.execute(filter.search ? kCountUserSearch : kCountUsers, filters);
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

}  // namespace betsdb::store
