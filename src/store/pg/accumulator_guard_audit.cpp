#include "store/pg/accumulator_guard_audit.hpp"

#include "store/pg/id_audit.hpp"

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
  auto found = co_await run_id_audit(db, kAuditAccumulatorGuards);
  if (!found.ok()) co_return std::move(found).error();
  co_return AccumulatorGuardAudit{found->checked, std::move(found->mismatched)};
}

}  // namespace betsdb::store
