#include "store/pg/account_store.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

std::string bytea_param(const Digest& d) {
  return "\\x" + to_hex(d);
}

// A user's and an operator's email never coincide (account_emails), so at
// most one row comes back. Role is NULL for a user.
constexpr pg::Statement kFindCredentials{"find_credentials", R"sql(
SELECT 'user', id, NULL::text, coalesce(password_hash, '') FROM users WHERE email = $1
UNION ALL
SELECT 'operator', id, role, password_hash FROM operators WHERE email = $1)sql"};

// Sessions first: they are what most requests carry once passwords are in use.
constexpr pg::Statement kFindSession{"find_session", R"sql(
SELECT s.user_id, s.operator_id, o.role, )sql" BETSDB_SQL_MICROS("s.expires_at") R"sql(
FROM sessions s LEFT JOIN operators o ON o.id = s.operator_id
WHERE s.token_hash = $1::bytea AND s.revoked_at IS NULL AND s.expires_at > $2::timestamptz
UNION ALL
SELECT id, NULL, NULL, NULL FROM users
WHERE token_hash = $1::bytea AND token_revoked_at IS NULL)sql"};

constexpr pg::Statement kInsertSession{"insert_session", R"sql(
INSERT INTO sessions (token_hash, user_id, operator_id, expires_at)
VALUES ($1::bytea, $2, $3, $4::timestamptz))sql"};

constexpr pg::Statement kRevokeSession{"revoke_session", R"sql(
WITH s AS (
  UPDATE sessions SET revoked_at = now()
  WHERE token_hash = $1::bytea AND revoked_at IS NULL RETURNING 1
), u AS (
  UPDATE users SET token_revoked_at = now()
  WHERE token_hash = $1::bytea AND token_revoked_at IS NULL RETURNING 1
)
SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM u))sql"};

constexpr pg::Statement kInsertOperator{"insert_operator", R"sql(
WITH o AS (
  INSERT INTO operators (email, role, password_hash) VALUES ($1, $2, $3)
  RETURNING id, email, role, created_at
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $4, 'operator.create', 'operator:' || id, $5,
         jsonb_build_object('email', email, 'role', role)
  FROM o
)
SELECT id, email, role, )sql" BETSDB_SQL_MICROS("created_at") R"sql( FROM o)sql"};

// NULL filters match everything; count(*) OVER () gives the total of the
// filtered entries with the page.
constexpr pg::Statement kListAudit{"list_audit", R"sql(
SELECT id, )sql" BETSDB_SQL_MICROS("at") R"sql(, actor, action, target, request_id,
       details::text, count(*) OVER ()
FROM audit
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
ORDER BY id DESC LIMIT $3 OFFSET $4)sql"};

constexpr pg::Statement kCountAudit{"count_audit", R"sql(
SELECT count(*) FROM audit
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2))sql"};

Result<domain::OperatorRole> role_from(std::string_view text) {
  auto role = domain::parse_operator_role(text);
  if (!role) return Error::internal("operators.role holds an unknown role: " + std::string(text));
  return *role;
}

}  // namespace

Async<std::optional<domain::Credentials>> find_credentials(pg::Pool& db, const std::string& email) {
  auto rows = co_await db.execute(kFindCredentials, pg::params(email));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Credentials>{};
  const pg::Row row = (*rows)[0];
  domain::Credentials found;
  found.account.id = row.get<std::int64_t>(1);
  if (row.get<std::string>(0) == "operator") {
    found.account.kind = domain::Account::Kind::operator_account;
    BETSDB_CO_TRY(found.account.role, role_from(row.get<std::string>(2)));
  }
  found.password_hash = row.get<std::string>(3);
  co_return std::optional<domain::Credentials>{std::move(found)};
}

Async<std::optional<domain::Session>> find_session(pg::Pool& db, const Digest& digest,
                                                   domain::Timestamp now) {
  auto rows =
      co_await db.execute(kFindSession, pg::params(bytea_param(digest), timestamp_param(now)));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Session>{};
  const pg::Row row = (*rows)[0];
  domain::Session session;
  if (auto user_id = row.get<std::optional<std::int64_t>>(0)) {
    session.account.id = *user_id;
  } else {
    session.account.kind = domain::Account::Kind::operator_account;
    session.account.id = row.get<std::int64_t>(1);
    BETSDB_CO_TRY(session.account.role, role_from(row.get<std::string>(2)));
  }
  if (auto expires = row.get<std::optional<std::int64_t>>(3)) {
    session.expires_at = timestamp_from_micros(*expires);
  }
  co_return std::optional<domain::Session>{session};
}

Async<void> insert_session(pg::Pool& db, const Digest& digest, const domain::Account& account,
                           domain::Timestamp expires_at) {
  std::optional<std::int64_t> user_id, operator_id;
  if (account.is_operator()) {
    operator_id = account.id;
  } else {
    user_id = account.id;
  }
  auto rows = co_await db.execute(
      kInsertSession,
      pg::params(bytea_param(digest), user_id, operator_id, timestamp_param(expires_at)));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return Result<void>{};
}

Async<bool> revoke_session(pg::Pool& db, const Digest& digest) {
  auto rows = co_await db.execute(kRevokeSession, pg::params(bytea_param(digest)));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return (*rows)[0].get<std::int64_t>(0) > 0;
}

Async<domain::Operator> insert_operator(pg::Pool& db, const NewOperator& op,
                                        const domain::Actor& actor) {
  auto rows = co_await db.execute(kInsertOperator,
                                  pg::params(op.email, std::string(domain::to_string(op.role)),
                                             op.password_hash, actor.name, actor.request_id));
  if (!rows.ok()) co_return std::move(rows).error();
  const pg::Row row = (*rows)[0];
  domain::Operator created;
  created.id = row.get<std::int64_t>(0);
  created.email = row.get<std::string>(1);
  BETSDB_CO_TRY(created.role, role_from(row.get<std::string>(2)));
  created.created_at = timestamp_from_micros(row.get<std::int64_t>(3));
  co_return created;
}

Async<domain::ListPage<domain::AuditEntry>> list_audit(pg::Pool& db, const AuditFilter& filter,
                                                       domain::Page page) {
  auto rows = co_await db.execute(
      kListAudit, pg::params(filter.actor, filter.action, std::int64_t{page.limit}, page.offset));
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::AuditEntry> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const pg::Row row = (*rows)[i];
    domain::AuditEntry entry;
    entry.id = row.get<std::int64_t>(0);
    entry.at = timestamp_from_micros(row.get<std::int64_t>(1));
    entry.actor = row.get<std::string>(2);
    entry.action = row.get<std::string>(3);
    entry.target = row.get<std::string>(4);
    entry.request_id = row.get<std::string>(5);
    entry.details = row.get<std::string>(6);
    out.total = row.get<std::int64_t>(7);
    out.items.push_back(std::move(entry));
  }
  if (rows->empty() && page.offset > 0) {
    auto count = co_await db.execute(kCountAudit, pg::params(filter.actor, filter.action));
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

}  // namespace betsdb::store
