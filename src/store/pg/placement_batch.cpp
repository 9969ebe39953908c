#include "store/pg/placement_batch.hpp"

#include "store/pg/placement_rows.hpp"
#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The batch as seven parallel arrays, one element per item: its ask's
// number ($1), the bettor ($2), then as a cart's items (bet_store.cpp).
//
// The rows are locked in the order every placement locks them, so that a
// batch and a single placement never wait for each other in a cycle: the
// matches FOR SHARE, then their exposure rows FOR UPDATE, then the bettors'
// rows FOR NO KEY UPDATE (`who`, after `e` by its uncorrelated condition),
// each in id order. The bettors' rows are locked before the checks, so the balance,
// pause and limits compared are the newest, every ask found able is debited,
// and the liability is checked on exactly the asks that will be placed.
constexpr std::string_view kPlaceBatch = R"sql(
WITH req AS (
  SELECT r.req, r.user_id, r.match_id, r.selection, r.stake, r.odds, r.payout, r.ord
  FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::integer[],
              $7::bigint[])
       WITH ORDINALITY AS r(req, user_id, match_id, selection, stake, odds, payout, ord)
), m AS (
  SELECT id, status, odds_1, odds_x, odds_2, odds_version, max_stake, max_liability FROM matches
  WHERE id = ANY($3::bigint[]) ORDER BY id FOR SHARE
), e AS (
  SELECT match_id, stake_1, stake_x, stake_2, payout_1, payout_x, payout_2 FROM match_exposure
  WHERE match_id IN (SELECT id FROM m) ORDER BY match_id FOR UPDATE
), who AS (
  SELECT id, balance, stakes_total, limits_set,
         coalesce(self_excluded_until, '-infinity') <= now()
           AND coalesce(timeout_until, '-infinity') <= now() AS unpaused
  FROM users
  WHERE id = ANY($2::bigint[]) AND (SELECT count(*) FROM e) >= 0
  ORDER BY id FOR NO KEY UPDATE
), chk AS (
  SELECT req.req, req.ord, req.user_id, req.match_id, req.selection, req.stake, req.odds,
         req.payout, m.odds_version, m.id IS NOT NULL AS found,
         coalesce(m.status = 'open' AND req.odds =
           CASE req.selection WHEN '1' THEN m.odds_1 WHEN 'X' THEN m.odds_x WHEN '2' THEN m.odds_2 END
           AND (m.max_stake IS NULL OR req.stake <= m.max_stake),
           false) AS priced,
         EXISTS (SELECT 1 FROM bets b WHERE b.user_id = req.user_id AND b.match_id = req.match_id
                   AND b.selection = req.selection AND b.holds_selection) AS dup
  FROM req LEFT JOIN m ON m.id = req.match_id
), asked AS (
  SELECT req, user_id, bool_and(found AND priced AND NOT dup) AS items_ok,
         sum(stake)::bigint AS total
  FROM chk GROUP BY req, user_id
), able AS (
  -- An ask that would be placed if it were alone.
  SELECT asked.req, asked.user_id, asked.total, asked.items_ok,
         coalesce(who.balance, 0) < asked.total AS funds_short,
         coalesce(asked.items_ok AND who.balance >= asked.total AND who.unpaused
                  AND (NOT who.limits_set
                       OR within_limits(who.id, 'stake', who.stakes_total, asked.total)),
                  false) AS ok
  FROM asked LEFT JOIN who ON who.id = asked.user_id
), adds AS (
  SELECT chk.match_id, count(*) AS bets,
         coalesce(sum(chk.stake) FILTER (WHERE chk.selection = '1'), 0) AS s1,
         coalesce(sum(chk.stake) FILTER (WHERE chk.selection = 'X'), 0) AS sx,
         coalesce(sum(chk.stake) FILTER (WHERE chk.selection = '2'), 0) AS s2,
         coalesce(sum(chk.payout) FILTER (WHERE chk.selection = '1'), 0) AS p1,
         coalesce(sum(chk.payout) FILTER (WHERE chk.selection = 'X'), 0) AS px,
         coalesce(sum(chk.payout) FILTER (WHERE chk.selection = '2'), 0) AS p2
  FROM chk JOIN able ON able.req = chk.req AND able.ok GROUP BY chk.match_id
), lim AS (
  SELECT adds.match_id,
         m.max_liability IS NULL OR
           greatest(coalesce(e.payout_1, 0) + adds.p1, coalesce(e.payout_x, 0) + adds.px,
                    coalesce(e.payout_2, 0) + adds.p2)
           - (coalesce(e.stake_1 + e.stake_x + e.stake_2, 0) + adds.s1 + adds.sx + adds.s2)
           <= m.max_liability AS within
  FROM adds JOIN m ON m.id = adds.match_id LEFT JOIN e ON e.match_id = adds.match_id
), go AS (
  SELECT coalesce(bool_and(within), true) AS within FROM lim
), debit AS (
  UPDATE users u SET balance = u.balance - able.total, stakes_total = u.stakes_total + able.total,
                     staked_at = greatest(u.staked_at, now())
  FROM able, go
  WHERE u.id = able.user_id AND able.ok AND go.within
  RETURNING able.req, u.balance, u.email, u.stakes_total, u.staked_at, able.total
), ins AS (
  INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout, odds_version)
  SELECT chk.user_id, chk.match_id, chk.selection, chk.stake, chk.odds, chk.payout, chk.odds_version
  FROM chk JOIN debit ON debit.req = chk.req
  ORDER BY chk.ord
  RETURNING id, user_id, match_id, selection, created_at
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, running_total, created_at)
  SELECT chk.user_id, 'stake', -chk.stake, ins.id,
         debit.balance + debit.total
           - (sum(chk.stake) OVER (PARTITION BY chk.req ORDER BY chk.ord))::bigint,
         debit.stakes_total - debit.total
           + (sum(chk.stake) OVER (PARTITION BY chk.req ORDER BY chk.ord))::bigint,
         debit.staked_at
  FROM ins JOIN chk ON chk.user_id = ins.user_id AND chk.match_id = ins.match_id
                   AND chk.selection = ins.selection
  JOIN debit ON debit.req = chk.req
  ORDER BY chk.ord
), exposed AS (
  INSERT INTO match_exposure AS x (match_id, bets, stake_1, stake_x, stake_2, payout_1, payout_x, payout_2)
  SELECT adds.match_id, adds.bets, adds.s1, adds.sx, adds.s2, adds.p1, adds.px, adds.p2
  FROM adds CROSS JOIN go WHERE go.within
  ON CONFLICT (match_id) DO UPDATE SET
    bets = x.bets + EXCLUDED.bets,
    stake_1 = x.stake_1 + EXCLUDED.stake_1, stake_x = x.stake_x + EXCLUDED.stake_x,
    stake_2 = x.stake_2 + EXCLUDED.stake_2, payout_1 = x.payout_1 + EXCLUDED.payout_1,
    payout_x = x.payout_x + EXCLUDED.payout_x, payout_2 = x.payout_2 + EXCLUDED.payout_2
)
SELECT chk.found, chk.priced, chk.dup, debit.balance,
       ins.id, )sql" BETSDB_SQL_MICROS("ins.created_at") R"sql(,
       debit.email, coalesce(lim.within, true), chk.odds_version, able.funds_short,
       -- Why an ask was not debited (only then: each costs a look-up): a
       -- pause is answered first, a stake limit after the items and funds.
       CASE WHEN debit.req IS NULL AND go.within AND able.items_ok AND NOT able.funds_short THEN
         exceeds_limits(chk.user_id, 'stake', able.total) END,
       CASE WHEN debit.req IS NULL AND go.within THEN
         )sql" BETSDB_SQL_MICROS("betting_paused_until(chk.user_id)") R"sql( END,
       chk.req, go.within
FROM chk JOIN able ON able.req = chk.req CROSS JOIN go
LEFT JOIN debit ON debit.req = chk.req
LEFT JOIN ins ON ins.user_id = chk.user_id AND ins.match_id = chk.match_id
             AND ins.selection = chk.selection
LEFT JOIN lim ON lim.match_id = chk.match_id
ORDER BY chk.ord)sql";

constexpr pg::Statement kPlaceBatchStatement{"place_batch", kPlaceBatch};

constexpr int kAskColumn = 12;
constexpr int kWithinColumn = 13;

}  // namespace

boost::asio::awaitable<Result<std::optional<std::vector<domain::Placement>>>> place_batch(
    pg::Pool& db, std::span<const PlacementAsk> asks) {
  using domain::BetItem;
  std::string asks_text = "{", users = "{", match_ids = "{", selections = "{", stakes = "{",
              odds = "{", payouts = "{";
  bool first = true;
  for (std::size_t a = 0; a < asks.size(); ++a) {
    for (const BetItem& item : asks[a].items) {
      if (!first) {
        for (std::string* s :
             {&asks_text, &users, &match_ids, &selections, &stakes, &odds, &payouts})
          *s += ',';
      }
      first = false;
      asks_text += std::to_string(a);
      users += std::to_string(asks[a].user_id);
      match_ids += std::to_string(item.match_id);
      selections += domain::to_string(item.selection);
      stakes += std::to_string(item.stake.cents());
      odds += std::to_string(item.odds.hundredths());
      payouts += std::to_string(item.potential_payout.cents());
    }
  }
  pg::Params params;
  for (std::string* s : {&asks_text, &users, &match_ids, &selections, &stakes, &odds, &payouts}) {
    *s += '}';
    params.push_back(std::move(*s));
  }
  auto rows = co_await db.execute(kPlaceBatchStatement, params);
  if (!rows.ok()) co_return std::move(rows).error();

  std::vector<domain::Placement> out(asks.size());
  // Rows come in item order, so each ask's rows are consecutive.
  std::size_t row = 0;
  for (std::size_t a = 0; a < asks.size(); ++a) {
    const auto items = asks[a].items;
    if (row + items.size() > rows->size()) co_return Error::internal("place_batch: rows missing");
    const pg::Row head = (*rows)[row];
    if (!head.get<bool>(kWithinColumn)) co_return std::optional<std::vector<domain::Placement>>{};
    const bool placed = item_placed(head);
    for (std::size_t i = 0; i < items.size(); ++i, ++row) {
      const pg::Row item_row = (*rows)[row];
      if (item_row.get<std::int64_t>(kAskColumn) != static_cast<std::int64_t>(a))
        co_return Error::internal("place_batch: rows out of order");
      add_item_row(out[a], item_row, asks[a].user_id, items[i], placed);
    }
  }
  co_return std::optional<std::vector<domain::Placement>>{std::move(out)};
}

}  // namespace betsdb::store
