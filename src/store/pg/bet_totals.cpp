#include "store/pg/bet_totals.hpp"

#include "store/pg/id_audit.hpp"

namespace betsdb::store {

namespace {

constexpr pg::Statement kFold{"fold_bet_totals", "SELECT fold_bet_total_changes(false)"};

// A group or match with no bets may have no row on either side.
constexpr pg::Statement kAuditGroups{"audit_bet_totals", R"sql(
WITH kept AS (
  SELECT type, selection, status, sum(bets) AS bets, sum(stake) AS stake
  FROM (SELECT type, selection, status, bets, stake FROM bet_totals
        UNION ALL
        SELECT type, coalesce(selection, ''), status, bets, stake FROM bet_total_changes) AS t
  GROUP BY type, selection, status
), counted AS (
  SELECT type, coalesce(selection, '') AS selection, status, count(*) AS bets, sum(stake) AS stake
  FROM bets GROUP BY type, coalesce(selection, ''), status
)
SELECT count(*),
       count(*) FILTER (WHERE (coalesce(k.bets, 0), coalesce(k.stake, 0))
                              IS DISTINCT FROM (coalesce(c.bets, 0), coalesce(c.stake, 0)))
FROM kept k FULL JOIN counted c USING (type, selection, status))sql"};

constexpr pg::Statement kAuditMatches{"audit_match_bet_totals", R"sql(
WITH kept AS (
  SELECT match_id, sum(bets) AS bets, sum(stake) AS stake
  FROM (SELECT match_id, bets, stake FROM match_bet_totals
        UNION ALL
        SELECT match_id, bets, stake FROM bet_total_changes WHERE type = 'single') AS t
  GROUP BY match_id
), counted AS (
  SELECT match_id, count(*) AS bets, sum(stake) AS stake
  FROM bets WHERE type = 'single' GROUP BY match_id
), checked AS (
  SELECT match_id,
         (coalesce(k.bets, 0), coalesce(k.stake, 0))
         IS DISTINCT FROM (coalesce(c.bets, 0), coalesce(c.stake, 0)) AS differs
  FROM kept k FULL JOIN counted c USING (match_id)
)
SELECT (SELECT count(*) FROM checked), c.match_id
  FROM (SELECT 1) AS one
  LEFT JOIN checked c ON c.differs
 ORDER BY c.match_id)sql"};

}  // namespace

boost::asio::awaitable<Result<std::optional<std::int64_t>>> fold_bet_totals(pg::Pool& db) {
  const pg::Params none;
  auto rows = co_await db.execute(kFold, none);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != 1) co_return Error::internal("fold_bet_total_changes() answered no row");
  co_return (*rows)[0].get<std::optional<std::int64_t>>(0);
}

boost::asio::awaitable<Result<BetTotalsAudit>> audit_bet_totals(pg::Pool& db) {
  BetTotalsAudit out;
  const pg::Params none;
  auto groups = co_await db.execute(kAuditGroups, none);
  if (!groups.ok()) co_return std::move(groups).error();
  if (groups->size() == 1) {
    out.groups_checked = (*groups)[0].get<std::int64_t>(0);
    out.groups_mismatched = (*groups)[0].get<std::int64_t>(1);
  }
  auto matches = co_await run_id_audit(db, kAuditMatches);
  if (!matches.ok()) co_return std::move(matches).error();
  out.matches_checked = matches->checked;
  out.mismatched_matches = std::move(matches->mismatched);
  co_return out;
}

}  // namespace betsdb::store
