#include "store/pg/exposure_audit.hpp"

#include "store/pg/id_audit.hpp"

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
  auto found = co_await run_id_audit(db, kAuditExposure);
  if (!found.ok()) co_return std::move(found).error();
  co_return ExposureAudit{found->checked, std::move(found->mismatched)};
}

}  // namespace betsdb::store
