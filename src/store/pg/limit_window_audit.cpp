#include "store/pg/limit_window_audit.hpp"

#include "store/pg/id_audit.hpp"

namespace betsdb::store {

namespace {

// The rows are ordered as they were written: by running total (each one adds
// at least a cent), ties and NULLs (never written by the server) by id.
constexpr pg::Statement kAuditLimitWindows{"audit_limit_windows", R"sql(
WITH moves AS (
  SELECT user_id, running_total, created_at,
         sum(abs(amount)) OVER w AS expected, lag(created_at) OVER w AS previous_at
  FROM ledger WHERE kind IN ('stake', 'deposit')
  WINDOW w AS (PARTITION BY user_id, kind ORDER BY running_total NULLS FIRST, id)
), totals AS (
  SELECT user_id, sum(-amount) FILTER (WHERE kind = 'stake') AS stakes,
         sum(amount) FILTER (WHERE kind = 'deposit') AS deposits
  FROM ledger GROUP BY user_id
), differs AS (
  SELECT user_id FROM moves
  WHERE running_total IS DISTINCT FROM expected OR created_at < previous_at
  UNION
  SELECT u.id FROM users u LEFT JOIN totals t ON t.user_id = u.id
  WHERE u.stakes_total <> coalesce(t.stakes, 0) OR u.deposits_total <> coalesce(t.deposits, 0)
)
SELECT (SELECT count(*) FROM users), d.user_id
  FROM (SELECT 1) AS one
  LEFT JOIN differs d ON true
 ORDER BY d.user_id
)sql"};

}  // namespace

boost::asio::awaitable<Result<LimitWindowAudit>> audit_limit_windows(pg::Pool& db) {
  auto found = co_await run_id_audit(db, kAuditLimitWindows);
  if (!found.ok()) co_return std::move(found).error();
  co_return LimitWindowAudit{found->checked, std::move(found->mismatched)};
}

}  // namespace betsdb::store
