#include "store/pg/ledger_audit.hpp"

#include "store/pg/statement.hpp"

namespace betsdb::store {

namespace {

// The LEFT JOIN from a single row yields that row with NULLs when every user
// is fine, so the count comes back either way; `checked` is computed once.
constexpr pg::Statement kAuditLedger{"audit_ledger", R"sql(
WITH sums AS (SELECT user_id, sum(amount) AS total FROM ledger GROUP BY user_id),
     checked AS (SELECT u.id, u.email, u.balance, coalesce(s.total, 0) AS total
                   FROM users u LEFT JOIN sums s ON s.user_id = u.id)
SELECT (SELECT count(*) FROM checked), c.id, c.email, c.balance, c.total::text
  FROM (SELECT 1) AS one
  LEFT JOIN checked c ON c.balance <> c.total OR c.balance < 0
 ORDER BY c.id
)sql"};

}  // namespace

boost::asio::awaitable<Result<LedgerAudit>> audit_ledger(pg::Pool& db) {
  const pg::Params no_params;
  auto rows = co_await db.execute(kAuditLedger, no_params);
  if (!rows.ok()) co_return std::move(rows).error();
  LedgerAudit audit;
  for (pg::Row row : *rows) {
    audit.users_checked = row.get<std::int64_t>(0);
    if (row.is_null(1)) continue;
    audit.mismatches.push_back(LedgerMismatch{row.get<std::int64_t>(1), row.get<std::string>(2),
                                              row.get<std::int64_t>(3), row.get<std::string>(4)});
  }
  co_return audit;
}

}  // namespace betsdb::store
