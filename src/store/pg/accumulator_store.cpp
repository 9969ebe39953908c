#include "store/pg/accumulator_store.hpp"

#include <span>

#include "store/pg/accumulator_rows.hpp"
#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// $1 user, $2/$3/$4 the legs' matches, selections and odds (array literals,
// in the order given), $5 stake, $6 potential payout, $7 combined odds,
// $8 legs key. One row per leg, in order.
//
// The batch's statement with one ask (accumulator_batch.cpp) would do, but
// for one ask PostgreSQL finds its generic plan dearer than planning each
// execution (0.5 ms a time); this one keeps its generic plan. As there, the
// rows are locked in the order every placement locks them (the matches FOR
// SHARE, then the bettor's row FOR NO KEY UPDATE, by `who`'s uncorrelated
// condition), the bettor's row before the checks, so an accumulator found
// able is debited; and the guard row comes first, so that its unique index,
// not a look-up (which a generic plan made while the table was small would
// answer by scanning it whole), decides the duplicate, even of a placement
// that committed while this one waited for the bettor's row.
constexpr pg::Statement kPlaceAccumulator{"place_accumulator", R"sql(
WITH req AS (
  SELECT r.match_id, r.selection, r.odds, r.ord
  FROM unnest($2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS r(match_id, selection, odds, ord)
), m AS (
  -- FOR SHARE: odds changes, suspensions and settlement wait for us.
  SELECT id, status, odds_1, odds_x, odds_2, odds_version, max_stake FROM matches
  WHERE id = ANY($2::bigint[]) ORDER BY id FOR SHARE
), who AS (
  -- As for single bets (store/pg/bet_store.cpp): the user's row is the turn.
  SELECT id, balance, stakes_total, limits_set,
         coalesce(self_excluded_until, '-infinity') <= now()
           AND coalesce(timeout_until, '-infinity') <= now() AS unpaused
  FROM users
  WHERE id = $1 AND (SELECT count(*) FROM m) >= 0
  FOR NO KEY UPDATE
), chk AS (
  SELECT req.ord, req.match_id, req.selection, req.odds, m.odds_version,
         m.id IS NOT NULL AS found,
         coalesce(m.status = 'open' AND req.odds =
           CASE req.selection WHEN '1' THEN m.odds_1 WHEN 'X' THEN m.odds_x WHEN '2' THEN m.odds_2 END
           AND (m.max_stake IS NULL OR $5::bigint <= m.max_stake),
           false) AS priced
  FROM req LEFT JOIN m ON m.id = req.match_id
), legs_ok AS (
  SELECT bool_and(found AND priced) AS every_leg FROM chk
), able AS (
  SELECT coalesce(legs_ok.every_leg AND who.balance >= $5::bigint AND who.unpaused
                  AND (NOT who.limits_set OR within_limits(who.id, 'stake', who.stakes_total, $5::bigint)),
                  false) AS ok
  FROM legs_ok LEFT JOIN who ON true
), guard AS (
  INSERT INTO pending_accumulators (bet_id, user_id, legs_key)
  SELECT nextval('bets_id_seq'), $1, $8::text FROM able WHERE able.ok
  ON CONFLICT (user_id, legs_key) DO NOTHING
  RETURNING bet_id
), debit AS (
  UPDATE users u SET balance = u.balance - $5::bigint, stakes_total = u.stakes_total + $5::bigint,
                     staked_at = greatest(u.staked_at, now())
  FROM guard
  WHERE u.id = $1
  RETURNING guard.bet_id, u.balance, u.email, u.stakes_total, u.staked_at
), ins AS (
  INSERT INTO bets (id, user_id, type, stake, potential_payout, combined_odds, legs_key)
  SELECT debit.bet_id, $1, 'accumulator', $5::bigint, $6::bigint, $7::bigint, $8::text FROM debit
  RETURNING id, created_at
), legs AS (
  INSERT INTO bet_legs (bet_id, position, match_id, selection, odds, odds_version)
  SELECT ins.id, chk.ord, chk.match_id, chk.selection, chk.odds, chk.odds_version
  FROM ins CROSS JOIN chk
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, running_total, created_at)
  SELECT $1, 'stake', -$5::bigint, ins.id, debit.balance, debit.stakes_total, debit.staked_at
  FROM ins CROSS JOIN debit
)
SELECT chk.found, chk.priced,
       -- Not placed: a duplicate if its guard conflicted; if it was not
       -- tried, looked up, but only when every leg is priced (a repriced
       -- accumulator is priced again and placed again, whatever this says):
       -- the look-up runs on the plan the statement keeps, which may scan.
       NOT EXISTS (SELECT 1 FROM ins) AND ((SELECT ok FROM able) OR (
         (SELECT every_leg FROM legs_ok) AND EXISTS (
           SELECT 1 FROM pending_accumulators WHERE user_id = $1 AND legs_key = $8::text))),
       (SELECT balance FROM debit),
       (SELECT id FROM ins), (SELECT )sql" BETSDB_SQL_MICROS("created_at") R"sql( FROM ins),
       (SELECT email FROM debit), chk.odds_version,
       coalesce((SELECT balance FROM who), 0) < $5::bigint,
       CASE WHEN NOT EXISTS (SELECT 1 FROM debit) THEN exceeds_limits($1, 'stake', $5::bigint) END,
       CASE WHEN NOT EXISTS (SELECT 1 FROM debit) THEN
         )sql" BETSDB_SQL_MICROS("betting_paused_until($1)") R"sql( END
FROM chk ORDER BY chk.ord)sql"};

}  // namespace

boost::asio::awaitable<Result<domain::AccumulatorPlacement>> place_accumulator(
    pg::Pool& db, std::int64_t user_id, const domain::AccumulatorItem& item) {
  using domain::Leg;
  const std::span<const Leg> legs(item.legs);
  auto params = pg::params(
      user_id, pg::array_literal(legs, [](const Leg& l) { return std::to_string(l.match_id); }),
      pg::array_literal(legs,
                        [](const Leg& l) { return std::string(domain::to_string(l.selection)); }),
      pg::array_literal(legs, [](const Leg& l) { return std::to_string(l.odds.hundredths()); }),
      item.stake.cents(), item.potential_payout.cents(), item.combined_odds_hundredths,
      item.legs_key);
  auto rows = co_await db.execute(kPlaceAccumulator, params);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != item.legs.size()) {
    co_return Error::internal("place_accumulator: one row per leg expected");
  }

  co_return accumulator_placement(*rows, 0, user_id, item);
}

}  // namespace betsdb::store
