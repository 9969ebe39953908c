#include "store/pg/limits_store.hpp"

#include <string>

#include "store/pg/row_mapping.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::store {

namespace {

// The user's row, marked as having limits: a debit waiting for it re-reads
// it after our commit, and with it the limits (within_limits() takes a fresh
// snapshot), so no debit slips past a lowered limit.
constexpr pg::Statement kTakeUserTurn{
    "limits_take_user_turn", "UPDATE users SET limits_set = true WHERE id = $1 RETURNING id"};

constexpr pg::Statement kSetLimits{"limits_set", R"sql(
SELECT set_user_limit($1, c.kind, c.period, c.amount)
FROM unnest($2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS c(kind, period, amount, ord)
ORDER BY c.ord)sql"};

// One row per limit in force or pending (none: one row of NULLs), each with
// the user's running pauses.
constexpr pg::Statement kReadLimits{"limits_read", R"sql(
SELECT CASE WHEN u.self_excluded_until > now() THEN )sql" BETSDB_SQL_MICROS(
                                                       "u.self_excluded_until") R"sql( END,
       CASE WHEN u.timeout_until > now() THEN )sql" BETSDB_SQL_MICROS("u.timeout_until") R"sql( END,
       l.kind, l.period, l.amount, )sql" BETSDB_SQL_MICROS("l.effective_at") R"sql(,
       l.effective_at > now()
FROM users u
LEFT JOIN LATERAL (
  SELECT kind, period, amount, effective_at FROM user_limits x
  WHERE x.user_id = u.id
    AND (x.effective_at > now()
         OR x.effective_at = (SELECT max(effective_at) FROM user_limits y
                              WHERE y.user_id = x.user_id AND y.kind = x.kind
                                AND y.period = x.period AND y.effective_at <= now()))
) l ON true
WHERE u.id = $1
ORDER BY l.effective_at, l.kind, array_position(ARRAY['day', 'week', 'month'], l.period))sql"};

// A longer pause replaces a shorter one of its kind; a shorter one changes nothing.
constexpr pg::Statement kStartSelfExclusion{"pause_self_exclusion", R"sql(
UPDATE users SET self_excluded_until = now() + $2::interval
WHERE id = $1 AND coalesce(self_excluded_until, '-infinity') <= now() + $2::interval
RETURNING )sql" BETSDB_SQL_MICROS("self_excluded_until")};
constexpr pg::Statement kStartTimeout{"pause_timeout", R"sql(
UPDATE users SET timeout_until = now() + $2::interval
WHERE id = $1 AND coalesce(timeout_until, '-infinity') <= now() + $2::interval
RETURNING )sql" BETSDB_SQL_MICROS("timeout_until")};
constexpr pg::Statement kRunningPause{
    "pause_running",
    R"sql(
SELECT CASE $2 WHEN 'self_exclusion' THEN )sql" BETSDB_SQL_MICROS(
        "self_excluded_until") R"sql( ELSE )sql" BETSDB_SQL_MICROS("timeout_until") R"sql( END
FROM users WHERE id = $1)sql"};

// As betting_paused_until() (migration 008), written out: a plain statement
// is planned once per connection, a function call costs more on every route
// that adds risk.
constexpr pg::Statement kPausedUntil{
    "betting_paused_until",
    R"sql(
SELECT )sql" BETSDB_SQL_MICROS(
        "greatest(CASE WHEN self_excluded_until > now() THEN self_excluded_until END, CASE WHEN "
        "timeout_until > now() THEN timeout_until END)") R"sql(
FROM users WHERE id = $1)sql"};

Result<domain::Limits> limits_from_rows(const pg::Rows& rows) {
  domain::Limits out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const pg::Row row = rows[i];
    if (i == 0) {
      if (auto until = row.get<std::optional<std::int64_t>>(0))
        out.self_excluded_until = timestamp_from_micros(*until);
      if (auto until = row.get<std::optional<std::int64_t>>(1))
        out.timeout_until = timestamp_from_micros(*until);
    }
    if (row.is_null(2)) continue;
    const auto kind_text = row.get<std::string_view>(2);
    const auto period = domain::parse_limit_period(row.get<std::string_view>(3));
    if ((kind_text != "deposit" && kind_text != "stake") || !period) {
      return Error::internal("user_limits: unknown kind or period " + std::string(kind_text));
    }
    const auto kind =
        kind_text == "deposit" ? domain::LimitKind::deposit : domain::LimitKind::stake;
    std::optional<domain::Money> amount;
    if (auto cents = row.get<std::optional<std::int64_t>>(4)) amount = domain::Money(*cents);
    if (row.get<bool>(6)) {
      out.pending.push_back(
          {kind, *period, amount, timestamp_from_micros(row.get<std::int64_t>(5))});
    } else {
      out.of(kind)[static_cast<std::size_t>(*period)] = amount;
    }
  }
  return out;
}

}  // namespace

Async<std::optional<domain::Limits>> read_limits(pg::Pool& db, std::int64_t user_id) {
  auto rows = co_await db.execute(kReadLimits, pg::params(user_id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Limits>{};
  BETSDB_CO_TRY(auto limits, limits_from_rows(*rows));
  co_return std::optional<domain::Limits>{std::move(limits)};
}

Async<std::optional<domain::Limits>> change_limits(
    pg::Pool& db, std::int64_t user_id, std::span<const domain::UserLimitChange> changes) {
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();
  auto turn = co_await tx->execute(kTakeUserTurn, pg::params(user_id));
  if (!turn.ok()) co_return std::move(turn).error();
  if (turn->empty()) co_return std::optional<domain::Limits>{};
  if (!changes.empty()) {
    using domain::UserLimitChange;
    auto set = co_await tx->execute(
        kSetLimits,
        pg::params(
            user_id,
            pg::array_literal(
                changes, [](const UserLimitChange& c) { return std::string(to_string(c.kind)); }),
            pg::array_literal(
                changes, [](const UserLimitChange& c) { return std::string(to_string(c.period)); }),
            pg::array_literal(changes, [](const UserLimitChange& c) {
              return c.amount ? std::to_string(c.amount->cents()) : std::string("NULL");
            })));
    if (!set.ok()) co_return std::move(set).error();
  }
  auto rows = co_await tx->execute(kReadLimits, pg::params(user_id));
  if (!rows.ok()) co_return std::move(rows).error();
  BETSDB_CO_TRY(auto limits, limits_from_rows(*rows));
  if (auto committed = co_await tx->commit(); !committed.ok()) co_return committed.error();
  co_return std::optional<domain::Limits>{std::move(limits)};
}

Async<domain::PauseOutcome> start_pause(pg::Pool& db, std::int64_t user_id,
                                        const domain::PauseRequest& pause) {
  const bool self_exclusion = pause.kind == domain::PauseKind::self_exclusion;
  auto started = co_await db.execute(self_exclusion ? kStartSelfExclusion : kStartTimeout,
                                     pg::params(user_id, std::string(pause.interval)));
  if (!started.ok()) co_return std::move(started).error();
  domain::PauseOutcome out;
  if (!started->empty()) {
    out.user_found = out.started = true;
    out.until = timestamp_from_micros((*started)[0].get<std::int64_t>(0));
    co_return out;
  }
  auto running = co_await db.execute(
      kRunningPause,
      pg::params(user_id, std::string(self_exclusion ? "self_exclusion" : "timeout")));
  if (!running.ok()) co_return std::move(running).error();
  out.user_found = !running->empty();
  if (out.user_found) {
    if (auto until = (*running)[0].get<std::optional<std::int64_t>>(0))
      out.until = timestamp_from_micros(*until);
  }
  co_return out;
}

Async<std::optional<domain::Timestamp>> betting_paused_until(pg::Pool& db, std::int64_t user_id) {
  auto rows = co_await db.execute(kPausedUntil, pg::params(user_id));
  if (!rows.ok()) co_return std::move(rows).error();
  std::optional<domain::Timestamp> out;
  if (!rows->empty()) {
    if (auto until = (*rows)[0].get<std::optional<std::int64_t>>(0))
      out = timestamp_from_micros(*until);
  }
  co_return out;
}

}  // namespace betsdb::store
