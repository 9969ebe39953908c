#include "store/pg/accumulator_guard_audit.hpp"

#include "store/pg/statement.hpp"

namespace betsdb::store {

namespace {

constexpr pg::Statement kAuditAccumulatorGuards{"audit_accumulator_guards", R"sql(
WITH pending AS (
  SELECT id, user_id, legs_key FROM bets WHERE type = 'accumulator' AND status = 'pending'
), differs AS (
  SELECT coalesce(p.id, g.bet_id) AS bet_id
  FROM pending p
  FULL JOIN pending_accumulators g
    ON g.bet_id = p.id AND g.user_id = p.user_id AND g.legs_key = p.legs_key
  WHERE p.id IS NULL OR g.bet_id IS NULL
)
SELECT (SELECT count(*) FROM pending), d.bet_id
  FROM (SELECT 1) AS one
  LEFT JOIN differs d ON true
 ORDER BY d.bet_id
)sql"};

}  // namespace

boost::asio::awaitable<Result<AccumulatorGuardAudit>> audit_accumulator_guards(pg::Pool& db) {
  const pg::Params no_params;
  auto rows = co_await db.execute(kAuditAccumulatorGuards, no_params);
  if (!rows.ok()) co_return std::move(rows).error();
  AccumulatorGuardAudit audit;
  for (pg::Row row : *rows) {
    audit.pending_checked = row.get<std::int64_t>(0);
    if (row.is_null(1)) continue;
    audit.mismatched_bets.push_back(row.get<std::int64_t>(1));
  }
  co_return audit;
}

}  // namespace betsdb::store
