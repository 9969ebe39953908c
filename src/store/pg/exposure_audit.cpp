#include "store/pg/exposure_audit.hpp"

#include "store/pg/statement.hpp"

namespace betsdb::store {

namespace {

// A match without a row counts as all zeros, as the placing statement treats it.
constexpr pg::Statement kAuditExposure{"audit_exposure", R"sql(
WITH sums AS (
  SELECT match_id, count(*) AS bets,
         coalesce(sum(stake) FILTER (WHERE selection = '1'), 0) AS s1,
         coalesce(sum(stake) FILTER (WHERE selection = 'X'), 0) AS sx,
         coalesce(sum(stake) FILTER (WHERE selection = '2'), 0) AS s2,
         coalesce(sum(potential_payout) FILTER (WHERE selection = '1'), 0) AS p1,
         coalesce(sum(potential_payout) FILTER (WHERE selection = 'X'), 0) AS px,
         coalesce(sum(potential_payout) FILTER (WHERE selection = '2'), 0) AS p2
  FROM bets WHERE status = 'pending' GROUP BY match_id
), checked AS (
  SELECT m.id,
         (coalesce(e.bets, 0), coalesce(e.stake_1, 0), coalesce(e.stake_x, 0), coalesce(e.stake_2, 0),
          coalesce(e.payout_1, 0), coalesce(e.payout_x, 0), coalesce(e.payout_2, 0))
         IS DISTINCT FROM
         (coalesce(s.bets, 0), coalesce(s.s1, 0), coalesce(s.sx, 0), coalesce(s.s2, 0),
          coalesce(s.p1, 0), coalesce(s.px, 0), coalesce(s.p2, 0)) AS differs
  FROM matches m
  LEFT JOIN match_exposure e ON e.match_id = m.id
  LEFT JOIN sums s ON s.match_id = m.id
)
SELECT (SELECT count(*) FROM checked), c.id
  FROM (SELECT 1) AS one
  LEFT JOIN checked c ON c.differs
 ORDER BY c.id
)sql"};

}  // namespace

boost::asio::awaitable<Result<ExposureAudit>> audit_exposure(pg::Pool& db) {
  const pg::Params no_params;
  auto rows = co_await db.execute(kAuditExposure, no_params);
  if (!rows.ok()) co_return std::move(rows).error();
  ExposureAudit audit;
  for (pg::Row row : *rows) {
    audit.matches_checked = row.get<std::int64_t>(0);
    if (row.is_null(1)) continue;
    audit.mismatched_matches.push_back(row.get<std::int64_t>(1));
  }
  co_return audit;
}

}  // namespace betsdb::store
