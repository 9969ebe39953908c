#include "store/pg/accumulator_batch.hpp"

#include <span>
#include <string>
#include <vector>

#include "store/pg/accumulator_rows.hpp"
#include "store/pg/params.hpp"
#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The legs as five parallel arrays, one element per leg: its ask's number
// ($1), match ($2), selection ($3), odds ($4) and position in its
// accumulator ($5); the asks as five more, one element per ask: the bettor
// ($6), stake ($7), potential payout ($8), combined odds ($9), legs key
// ($10).
//
// The rows are locked in the order every placement locks them: the matches
// FOR SHARE, then the bettors' rows FOR NO KEY UPDATE (`who`, after `m` by
// its uncorrelated condition), each in id order. The bettors' rows are locked
// before the checks, so the balance, pause and limits compared are the
// newest and every ask found able is debited. One row per leg, in order.
constexpr pg::Statement kPlaceAccumulatorBatch{"place_accumulator_batch", R"sql(
WITH leg AS (
  SELECT l.req, l.match_id, l.selection, l.odds, l.pos, l.ord
  FROM unnest($1::integer[], $2::bigint[], $3::text[], $4::integer[], $5::integer[])
       WITH ORDINALITY AS l(req, match_id, selection, odds, pos, ord)
), ask AS (
  SELECT (a.ord - 1)::integer AS req, a.user_id, a.stake, a.payout, a.combined, a.legs_key
  FROM unnest($6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[])
       WITH ORDINALITY AS a(user_id, stake, payout, combined, legs_key, ord)
), m AS (
  -- FOR SHARE: odds changes, suspensions and settlement wait for us.
  SELECT id, status, odds_1, odds_x, odds_2, odds_version, max_stake FROM matches
  WHERE id = ANY($2::bigint[]) ORDER BY id FOR SHARE
), who AS (
  SELECT id, balance, stakes_total, limits_set,
         coalesce(self_excluded_until, '-infinity') <= now()
           AND coalesce(timeout_until, '-infinity') <= now() AS unpaused
  FROM users
  WHERE id = ANY($6::bigint[]) AND (SELECT count(*) FROM m) >= 0
  ORDER BY id FOR NO KEY UPDATE
), chk AS (
  SELECT leg.req, leg.ord, leg.pos, leg.match_id, leg.selection, leg.odds, m.odds_version,
         m.id IS NOT NULL AS found,
         coalesce(m.status = 'open' AND leg.odds =
           CASE leg.selection WHEN '1' THEN m.odds_1 WHEN 'X' THEN m.odds_x WHEN '2' THEN m.odds_2 END
           AND (m.max_stake IS NULL OR ask.stake <= m.max_stake),
           false) AS priced
  FROM leg JOIN ask ON ask.req = leg.req LEFT JOIN m ON m.id = leg.match_id
), able AS (
  SELECT ask.req, ask.user_id, ask.stake, ask.payout, ask.combined, ask.legs_key,
         coalesce(who.balance, 0) < ask.stake AS funds_short,
         who.id IS NOT NULL AND who.balance >= ask.stake AND who.unpaused
           AND (NOT who.limits_set OR within_limits(who.id, 'stake', who.stakes_total, ask.stake))
           AS bettor_ok
  FROM ask LEFT JOIN who ON who.id = ask.user_id
), legs_ok AS (
  -- The asks whose every leg is found and priced.
  SELECT chk.req FROM chk GROUP BY chk.req HAVING bool_and(chk.found AND chk.priced)
), ok AS (
  SELECT able.req FROM able JOIN legs_ok ON legs_ok.req = able.req WHERE able.bettor_ok
), guard AS (
  -- The duplicate check is the guard's unique index itself: an ask whose
  -- guard row conflicts is a duplicate, even of a placement that committed
  -- while this statement waited for the bettor's row. (A look-up of the
  -- table instead would be planned once per connection, and a plan made
  -- while the table was small scans it whole on every ask as it grows.)
  -- The bet's id is taken here, so that the guard can come first.
  INSERT INTO pending_accumulators (bet_id, user_id, legs_key)
  SELECT nextval('bets_id_seq'), able.user_id, able.legs_key
  FROM able JOIN ok ON ok.req = able.req
  ORDER BY able.req
  ON CONFLICT (user_id, legs_key) DO NOTHING
  RETURNING bet_id, user_id
), debit AS (
  -- As for single bets (store/pg/bet_store.cpp): the bettor's row is the turn.
  UPDATE users u SET balance = u.balance - able.stake, stakes_total = u.stakes_total + able.stake,
                     staked_at = greatest(u.staked_at, now())
  FROM able JOIN guard ON guard.user_id = able.user_id
  WHERE u.id = able.user_id
  RETURNING able.req, guard.bet_id, u.balance, u.email, u.stakes_total, u.staked_at
), ins AS (
  INSERT INTO bets (id, user_id, type, stake, potential_payout, combined_odds, legs_key)
  SELECT debit.bet_id, able.user_id, 'accumulator', able.stake, able.payout, able.combined,
         able.legs_key
  FROM able JOIN debit ON debit.req = able.req
  ORDER BY able.req
  RETURNING id, user_id, created_at
), placed AS (
  -- Each bet's ask, by its bettor (distinct in a batch).
  SELECT ins.id, ins.created_at, able.req, able.user_id, able.legs_key, able.stake
  FROM ins JOIN able ON able.user_id = ins.user_id
), legs AS (
  INSERT INTO bet_legs (bet_id, position, match_id, selection, odds, odds_version)
  SELECT placed.id, chk.pos, chk.match_id, chk.selection, chk.odds, chk.odds_version
  FROM placed JOIN chk ON chk.req = placed.req
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, running_total, created_at)
  SELECT placed.user_id, 'stake', -placed.stake, placed.id, debit.balance, debit.stakes_total,
         debit.staked_at
  FROM placed JOIN debit ON debit.req = placed.req
)
SELECT chk.found, chk.priced,
       -- Not placed: a duplicate if its guard conflicted; if it was not
       -- tried, looked up, but only when every leg is priced (a repriced
       -- accumulator is priced again and placed again, whatever this says).
       placed.id IS NULL AND (ok.req IS NOT NULL OR (legs_ok.req IS NOT NULL AND EXISTS (
         SELECT 1 FROM pending_accumulators p
         WHERE p.user_id = able.user_id AND p.legs_key = able.legs_key))),
       debit.balance, placed.id,
       )sql" BETSDB_SQL_MICROS("placed.created_at") R"sql(, debit.email, chk.odds_version,
       able.funds_short,
       CASE WHEN debit.req IS NULL THEN exceeds_limits(able.user_id, 'stake', able.stake) END,
       CASE WHEN debit.req IS NULL THEN
         )sql" BETSDB_SQL_MICROS("betting_paused_until(able.user_id)") R"sql( END,
       chk.req
FROM chk JOIN able ON able.req = chk.req
LEFT JOIN legs_ok ON legs_ok.req = chk.req
LEFT JOIN ok ON ok.req = chk.req
LEFT JOIN debit ON debit.req = chk.req
LEFT JOIN placed ON placed.req = chk.req
ORDER BY chk.ord)sql"};

constexpr int kAskColumn = 11;

// An element of a text array literal, quoted (pg::array_literal quotes
// nothing): a legs key holds commas.
std::string quoted_element(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

boost::asio::awaitable<Result<std::vector<domain::AccumulatorPlacement>>> place_accumulator_batch(
    pg::Pool& db, std::span<const AccumulatorAsk> asks) {
  // Every ask's legs in one list, each with its ask's number and its position.
  struct NumberedLeg {
    std::size_t ask;
    std::size_t position;
    const domain::Leg* leg;
  };
  std::vector<NumberedLeg> legs;
  for (std::size_t a = 0; a < asks.size(); ++a) {
    const auto& item_legs = asks[a].item->legs;
    for (std::size_t i = 0; i < item_legs.size(); ++i) legs.push_back({a, i + 1, &item_legs[i]});
  }
  const std::span<const NumberedLeg> all_legs(legs);
  using Ask = AccumulatorAsk;
  using Leg = NumberedLeg;
  auto params = pg::params(
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.ask); }),
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.leg->match_id); }),
      pg::array_literal(
          all_legs, [](const Leg& l) { return std::string(domain::to_string(l.leg->selection)); }),
      pg::array_literal(all_legs,
                        [](const Leg& l) { return std::to_string(l.leg->odds.hundredths()); }),
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.position); }),
      pg::array_literal(asks, [](const Ask& a) { return std::to_string(a.user_id); }),
      pg::array_literal(asks, [](const Ask& a) { return std::to_string(a.item->stake.cents()); }),
      pg::array_literal(
          asks, [](const Ask& a) { return std::to_string(a.item->potential_payout.cents()); }),
      pg::array_literal(
          asks, [](const Ask& a) { return std::to_string(a.item->combined_odds_hundredths); }),
      pg::array_literal(asks, [](const Ask& a) { return quoted_element(a.item->legs_key); }));
  auto rows = co_await db.execute(kPlaceAccumulatorBatch, params);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != legs.size()) {
    co_return Error::internal("place_accumulator_batch: one row per leg expected");
  }

  std::vector<domain::AccumulatorPlacement> out;
  out.reserve(asks.size());
  // Rows come in leg order, so each ask's rows are consecutive.
  std::size_t row = 0;
  for (std::size_t a = 0; a < asks.size(); ++a) {
    const domain::AccumulatorItem& item = *asks[a].item;
    for (std::size_t i = 0; i < item.legs.size(); ++i) {
      if ((*rows)[row + i].get<std::int64_t>(kAskColumn) != static_cast<std::int64_t>(a))
        co_return Error::internal("place_accumulator_batch: rows out of order");
    }
    out.push_back(accumulator_placement(*rows, row, asks[a].user_id, item));
    row += item.legs.size();
  }
  co_return out;
}

}  // namespace betsdb::store
