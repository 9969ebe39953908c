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
  INSERT INTO users (email, name, balance, token_hash, password_hash)
  VALUES ($1, $2, $3, $4::bytea, $5)
  RETURNING *
), l AS (
  INSERT INTO ledger (user_id, kind, amount, balance_after)
  SELECT id, 'deposit', $3, $3 FROM u WHERE $3 > 0
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $6, 'user.create', 'user:' || id, $7,
         jsonb_build_object('email', email, 'balance', balance)
  FROM u WHERE $6::text IS NOT NULL
)
SELECT )sql" BETSDB_USER_COLUMNS R"sql( FROM u)sql"};

constexpr pg::Statement kFindUser{"find_user",
                                  "SELECT " BETSDB_USER_COLUMNS " FROM users WHERE id = $1"};

constexpr pg::Statement kDeposit{"deposit", R"sql(
WITH u AS (
  UPDATE users SET balance = balance + $2 WHERE id = $1 RETURNING id, balance
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $3, 'user.deposit', 'user:' || id, $4, jsonb_build_object('amount', $2::bigint)
  FROM u
)
INSERT INTO ledger (user_id, kind, amount, balance_after)
SELECT id, 'deposit', $2, balance FROM u
RETURNING )sql" BETSDB_LEDGER_COLUMNS};

constexpr pg::Statement kListLedger{"list_ledger", R"sql(
SELECT )sql" BETSDB_LEDGER_COLUMNS R"sql(, count(*) OVER ()
FROM ledger WHERE user_id = $1
ORDER BY id DESC LIMIT $2 OFFSET $3)sql"};

constexpr pg::Statement kCountLedger{"count_ledger",
                                     "SELECT count(*) FROM ledger WHERE user_id = $1"};

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

Async<std::optional<domain::Deposit>> deposit(pg::Pool& db, std::int64_t user_id,
                                              domain::Money amount, const domain::Actor& actor) {
  auto rows = co_await db.execute(
      kDeposit, pg::params(user_id, amount.cents(), actor.name, actor.request_id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Deposit>{};
  BETSDB_CO_TRY(auto entry, ledger_entry_from_row((*rows)[0]));
  co_return std::optional<domain::Deposit>{domain::Deposit{entry.balance_after, entry}};
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

}  // namespace betsdb::store
