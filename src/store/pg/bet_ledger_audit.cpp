#include "store/pg/bet_ledger_audit.hpp"

#include "store/pg/id_audit.hpp"

namespace betsdb::store {

namespace {

constexpr pg::Statement kAuditBetLedger{"audit_bet_ledger", R"sql(
WITH rows_by_bet AS (
  SELECT bet_id,
         count(*) FILTER (WHERE kind = 'stake') AS stakes,
         coalesce(sum(amount) FILTER (WHERE kind = 'stake'), 0) AS staked,
         count(*) FILTER (WHERE kind <> 'stake') AS credits,
         coalesce(sum(amount) FILTER (WHERE kind = 'payout'), 0) AS paid,
         coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded,
         coalesce(sum(amount) FILTER (WHERE kind = 'cash_out'), 0) AS cashed
  FROM ledger WHERE bet_id IS NOT NULL GROUP BY bet_id
), won_accumulators AS (
  SELECT l.bet_id,
         div(b.stake * betsdb_product(CASE l.status WHEN 'won' THEN l.odds::numeric ELSE 1 END),
             betsdb_product(CASE l.status WHEN 'won' THEN 100::numeric ELSE 1 END))::bigint AS payout
  FROM bet_legs l JOIN bets b ON b.id = l.bet_id
  WHERE b.status = 'won' GROUP BY l.bet_id, b.stake
), checked AS (
  SELECT b.id,
         NOT coalesce(r.stakes = 1 AND r.staked = -b.stake AND
           CASE b.status
             WHEN 'won' THEN r.credits = 1 AND r.paid = coalesce(a.payout, b.potential_payout)
             WHEN 'void' THEN r.credits = 1 AND r.refunded = b.stake
             WHEN 'cashed_out' THEN r.credits = 1 AND r.cashed = b.cash_out_amount
             ELSE r.credits = 0
           END, false) AS differs
  FROM bets b
  LEFT JOIN rows_by_bet r ON r.bet_id = b.id
  LEFT JOIN won_accumulators a ON a.bet_id = b.id
)
SELECT (SELECT count(*) FROM checked), c.id
  FROM (SELECT 1) AS one
  LEFT JOIN checked c ON c.differs
 ORDER BY c.id
)sql"};

}  // namespace

boost::asio::awaitable<Result<BetLedgerAudit>> audit_bet_ledger(pg::Pool& db) {
  auto found = co_await run_id_audit(db, kAuditBetLedger);
  if (!found.ok()) co_return std::move(found).error();
  co_return BetLedgerAudit{found->checked, std::move(found->mismatched)};
}

}  // namespace betsdb::store
