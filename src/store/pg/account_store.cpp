#include "store/pg/account_store.hpp"

#include <charconv>

#include "store/pg/row_mapping.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::store {

namespace {

std::string bytea_param(const Digest& d) {
  return "\\x" + to_hex(d);
}

// 64 hex digits (encode(token_hash, 'hex')); nullopt for anything else.
std::optional<Digest> digest_from_hex(std::string_view hex) {
  Digest out{};
  if (hex.size() != 2 * out.size()) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc() || end != hex.data() + 2 * i + 2) return std::nullopt;
  }
  return out;
}

// A user's and an operator's email never coincide (account_emails), so at
// most one row comes back. Role is NULL for a user. A disabled operator has
// no password to match, like a user who signed up without one.
constexpr pg::Statement kFindCredentials{"find_credentials", R"sql(
SELECT 'user', id, NULL::text, coalesce(password_hash, '') FROM users WHERE email = $1
UNION ALL
SELECT 'operator', id, role, CASE WHEN disabled_at IS NULL THEN password_hash ELSE '' END
FROM operators WHERE email = $1)sql"};

// The password on file, for its holder's change (a disabled operator's too:
// an admin may set one before enabling it again).
constexpr pg::Statement kUserPassword{"user_password", R"sql(
SELECT coalesce(password_hash, '') FROM users WHERE id = $1)sql"};
constexpr pg::Statement kOperatorPassword{"operator_password", R"sql(
SELECT password_hash, role FROM operators WHERE id = $1)sql"};

// Sessions first: they are what most requests carry once passwords are in use.
// A disabled operator's sessions are revoked with the change; one that a
// failure left unrevoked is refused here all the same.
constexpr pg::Statement kFindSession{"find_session", R"sql(
SELECT s.user_id, s.operator_id, o.role, )sql" BETSDB_SQL_MICROS("s.expires_at") R"sql(
FROM sessions s LEFT JOIN operators o ON o.id = s.operator_id
WHERE s.token_hash = $1::bytea AND s.revoked_at IS NULL AND s.expires_at > $2::timestamptz
  AND o.disabled_at IS NULL
UNION ALL
SELECT id, NULL, NULL, NULL FROM users
WHERE token_hash = $1::bytea AND token_revoked_at IS NULL)sql"};

// A session goes in only while the password its sign-in checked ($5) is
// still the account's, and (an operator's) while the operator is enabled,
// under a key-share lock on the account's row: a password change or a
// disable takes the row FOR UPDATE first (kSetUserPassword,
// kSetOperatorPassword, kUpdateOperator), so it either waits for this insert
// to commit, and then ends the session with the others (kEnd*Sessions, a
// later statement), or ran first, and this inserts nothing. Key share, not
// share: the money writes on a bettor's row (a settlement's credit, a
// cash-out's) take no lock that it waits for; the foreign key's check
// takes the same lock anyway.
constexpr pg::Statement kInsertSession{"insert_session", R"sql(
INSERT INTO sessions (token_hash, user_id, operator_id, expires_at)
SELECT $1::bytea, $2, $3, $4::timestamptz
WHERE ($3::bigint IS NULL
       AND EXISTS (SELECT 1 FROM users WHERE id = $2 AND password_hash = $5 FOR KEY SHARE))
   OR EXISTS (SELECT 1 FROM operators
              WHERE id = $3 AND disabled_at IS NULL AND password_hash = $5 FOR KEY SHARE))sql"};

// $3: the hash the holder's proof was checked against ('' for none), or
// NULL for an admin's reset. No row when that is no longer the one on file
// (nor, for an operator's own change, once it is disabled). The row is taken
// FOR UPDATE first: an UPDATE alone would not wait for a sign-in's
// key-share lock (kInsertSession).
constexpr pg::Statement kSetUserPassword{"set_user_password", R"sql(
WITH taken AS (SELECT id FROM users WHERE id = $1 FOR UPDATE)
UPDATE users SET password_hash = $2
FROM taken
WHERE users.id = taken.id AND ($3::text IS NULL OR coalesce(users.password_hash, '') = $3)
RETURNING users.id)sql"};

constexpr pg::Statement kSetOperatorPassword{"set_operator_password", R"sql(
WITH taken AS (
  SELECT id FROM operators WHERE id = $1 FOR UPDATE
), o AS (
  UPDATE operators SET password_hash = $2
  FROM taken
  WHERE operators.id = taken.id
    AND ($3::text IS NULL OR (operators.password_hash = $3 AND operators.disabled_at IS NULL))
  RETURNING operators.id
), a AS (
  INSERT INTO audit (actor, action, target, request_id)
  SELECT $4, 'operator.password', 'operator:' || id, $5 FROM o
)
SELECT id FROM o)sql"};

// Ends every live session of an account ($1) when $4, but the one with
// digest $3 (NULL: none kept), and names them with those ended in the last
// $2 seconds (a retry marks those again: its first try may have failed to).
// After the change that calls for it (a password, kUpdateOperator), in the
// same transaction: a statement of its own, so (READ COMMITTED) its
// snapshot holds every session inserted before that change took the
// account's row.
// clang-format off
#define BETSDB_END_SESSIONS_SQL(owner)                                                   \
  "WITH ended AS ("                                                                      \
  "  UPDATE sessions SET revoked_at = now()"                                             \
  "  WHERE $4::boolean AND " owner " = $1 AND revoked_at IS NULL AND expires_at > now()" \
  "    AND token_hash IS DISTINCT FROM $3::bytea"                                        \
  "  RETURNING token_hash) "                                                             \
  "SELECT encode(token_hash, 'hex') FROM ended "                                         \
  "UNION "                                                                               \
  "SELECT encode(token_hash, 'hex') FROM sessions"                                       \
  " WHERE " owner " = $1 AND expires_at > now() AND token_hash IS DISTINCT FROM $3::bytea" \
  "   AND revoked_at > now() - make_interval(secs => $2::bigint)"
// clang-format on
constexpr pg::Statement kEndUserSessions{"end_user_sessions", BETSDB_END_SESSIONS_SQL("user_id")};
constexpr pg::Statement kEndOperatorSessions{"end_operator_sessions",
                                             BETSDB_END_SESSIONS_SQL("operator_id")};
#undef BETSDB_END_SESSIONS_SQL

// A user's sign-up token ends with the other sessions, unless it is the one
// the change was asked with ($3); the parameters and the rows are
// kEndUserSessions's.
constexpr pg::Statement kEndSignUpToken{"end_sign_up_token", R"sql(
WITH ended AS (
  UPDATE users SET token_revoked_at = now()
  WHERE $4::boolean AND id = $1 AND token_revoked_at IS NULL AND token_hash IS DISTINCT FROM $3::bytea
  RETURNING token_hash
)
SELECT encode(token_hash, 'hex') FROM ended
UNION
SELECT encode(token_hash, 'hex') FROM users
WHERE id = $1 AND token_hash IS DISTINCT FROM $3::bytea
  AND token_revoked_at > now() - make_interval(secs => $2::bigint))sql"};

constexpr pg::Statement kListOperators{"list_operators", R"sql(
SELECT id, email, role, )sql" BETSDB_SQL_MICROS("created_at") R"sql(,
       )sql" BETSDB_SQL_MICROS("disabled_at") R"sql(, count(*) OVER ()
FROM operators ORDER BY id DESC LIMIT $1 OFFSET $2)sql"};

constexpr pg::Statement kCountOperators{"count_operators", "SELECT count(*) FROM operators"};

// $2: the new role or NULL; $3: disabled (true/false) or NULL. A disable
// keeps the moment of the first one. Audited with what was before, unless
// it changed nothing.
constexpr pg::Statement kUpdateOperator{"update_operator", R"sql(
WITH before AS (
  SELECT id, role, disabled_at FROM operators WHERE id = $1 FOR UPDATE
), o AS (
  UPDATE operators SET
    role = coalesce($2::text, operators.role),
    disabled_at = CASE WHEN $3::boolean IS NULL THEN operators.disabled_at
                       WHEN $3::boolean THEN coalesce(operators.disabled_at, now())
                       ELSE NULL END
  FROM before WHERE operators.id = before.id
  RETURNING operators.id, operators.email, operators.role, operators.created_at,
            operators.disabled_at, before.role AS role_before,
            before.disabled_at IS NOT NULL AS disabled_before
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $4, 'operator.update', 'operator:' || id, $5,
         jsonb_build_object('role', role, 'role_before', role_before,
                            'disabled', disabled_at IS NOT NULL,
                            'disabled_before', disabled_before)
  FROM o
  WHERE role <> role_before OR (disabled_at IS NOT NULL) <> disabled_before
)
SELECT id, email, role, )sql" BETSDB_SQL_MICROS("created_at") R"sql(,
       )sql" BETSDB_SQL_MICROS("disabled_at") R"sql(, role_before, disabled_before
FROM o)sql"};

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
SELECT id, email, role, )sql" BETSDB_SQL_MICROS("created_at") R"sql(, NULL::bigint FROM o)sql"};

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

// id, email, role, created_at, disabled_at (micros, NULL when enabled).
Result<domain::Operator> operator_from(const pg::Row& row) {
  domain::Operator op;
  op.id = row.get<std::int64_t>(0);
  op.email = row.get<std::string>(1);
  BETSDB_TRY(op.role, role_from(row.get<std::string>(2)));
  op.created_at = timestamp_from_micros(row.get<std::int64_t>(3));
  if (auto disabled = row.get<std::optional<std::int64_t>>(4)) {
    op.disabled_at = timestamp_from_micros(*disabled);
  }
  return op;
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

Async<std::optional<domain::Credentials>> find_password(pg::Pool& db,
                                                        const domain::Account& account) {
  auto rows = co_await db.execute(account.is_operator() ? kOperatorPassword : kUserPassword,
                                  pg::params(account.id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Credentials>{};
  const pg::Row row = (*rows)[0];
  domain::Credentials found;
  found.account = account;
  if (account.is_operator()) {
    BETSDB_CO_TRY(found.account.role, role_from(row.get<std::string>(1)));
  }
  found.password_hash = row.get<std::string>(0);
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

Async<bool> insert_session(pg::Pool& db, const Digest& digest, const domain::Account& account,
                           const std::string& password_hash, domain::Timestamp expires_at) {
  std::optional<std::int64_t> user_id, operator_id;
  if (account.is_operator()) {
    operator_id = account.id;
  } else {
    user_id = account.id;
  }
  auto rows =
      co_await db.execute(kInsertSession, pg::params(bytea_param(digest), user_id, operator_id,
                                                     timestamp_param(expires_at), password_hash));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return rows->affected() == 1;
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
  co_return operator_from((*rows)[0]);
}

Async<domain::ListPage<domain::Operator>> list_operators(pg::Pool& db, domain::Page page) {
  auto rows =
      co_await db.execute(kListOperators, pg::params(std::int64_t{page.limit}, page.offset));
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::Operator> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const pg::Row row = (*rows)[i];
    BETSDB_CO_TRY(auto op, operator_from(row));
    out.total = row.get<std::int64_t>(5);
    out.items.push_back(std::move(op));
  }
  if (rows->empty() && page.offset > 0) {
    auto count = co_await db.execute(kCountOperators, pg::Params{});
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

namespace {

// The digests of a kEnd*Sessions statement's rows.
Result<std::vector<Digest>> digests_from(const pg::Rows& rows) {
  std::vector<Digest> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto digest = digest_from_hex(rows[i].get<std::string>(0));
    if (!digest) return Error::internal("sessions.token_hash is not a SHA-256 digest");
    out.push_back(*digest);
  }
  return out;
}

}  // namespace

Async<std::optional<std::vector<Digest>>> change_password(pg::Pool& db,
                                                          const domain::PasswordChange& change,
                                                          const domain::Actor& actor,
                                                          std::chrono::seconds also_ended_within) {
  const std::int64_t id = change.account.id;
  std::optional<std::string> kept;
  if (change.kept_session) kept = bytea_param(*change.kept_session);
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();
  Result<pg::Rows> set = Error::internal("not run");
  if (change.account.is_operator()) {
    set = co_await tx->execute(
        kSetOperatorPassword,
        pg::params(id, change.new_hash, change.expected_hash, actor.name, actor.request_id));
  } else {
    set = co_await tx->execute(kSetUserPassword,
                               pg::params(id, change.new_hash, change.expected_hash));
  }
  if (!set.ok()) co_return std::move(set).error();
  if (set->empty()) co_return std::optional<std::vector<Digest>>{};
  const pg::Statement& end_sessions =
      change.account.is_operator() ? kEndOperatorSessions : kEndUserSessions;
  const pg::Params end_params =
      pg::params(id, static_cast<std::int64_t>(also_ended_within.count()), kept, true);
  auto ended = co_await tx->execute(end_sessions, end_params);
  if (!ended.ok()) co_return std::move(ended).error();
  BETSDB_CO_TRY(auto digests, digests_from(*ended));
  if (!change.account.is_operator()) {
    auto sign_up = co_await tx->execute(kEndSignUpToken, end_params);
    if (!sign_up.ok()) co_return std::move(sign_up).error();
    BETSDB_CO_TRY(auto token, digests_from(*sign_up));
    digests.insert(digests.end(), token.begin(), token.end());
  }
  if (auto committed = co_await tx->commit(); !committed.ok())
    co_return std::move(committed).error();
  co_return std::optional<std::vector<Digest>>{std::move(digests)};
}

Async<std::optional<domain::OperatorChanged>> update_operator(
    pg::Pool& db, std::int64_t operator_id, const domain::OperatorChange& change,
    const domain::Actor& actor, std::chrono::seconds also_ended_within) {
  std::optional<std::string> role;
  if (change.role) role = std::string(domain::to_string(*change.role));
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();
  auto rows = co_await tx->execute(kUpdateOperator, pg::params(operator_id, role, change.disabled,
                                                               actor.name, actor.request_id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::OperatorChanged>{};
  const pg::Row row = (*rows)[0];
  domain::OperatorChanged out;
  BETSDB_CO_TRY(out.now, operator_from(row));
  BETSDB_CO_TRY(out.role_before, role_from(row.get<std::string>(5)));
  out.disabled_before = row.get<bool>(6);

  // A new role or a disable ends the sessions; the same role again (perhaps
  // a retry) only names those ended recently, to be marked again.
  const bool end_live = out.role_changed() || change.disabled.value_or(false);
  if (end_live || change.role) {
    const std::optional<std::string> none_kept;
    auto ended = co_await tx->execute(
        kEndOperatorSessions,
        pg::params(operator_id, static_cast<std::int64_t>(also_ended_within.count()), none_kept,
                   end_live));
    if (!ended.ok()) co_return std::move(ended).error();
    BETSDB_CO_TRY(auto digests, digests_from(*ended));
    out.sessions_to_mark.assign(digests.begin(), digests.end());
  }
  if (auto committed = co_await tx->commit(); !committed.ok())
    co_return std::move(committed).error();
  co_return std::optional<domain::OperatorChanged>{std::move(out)};
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
