#include "store/pg/bet_store.hpp"

#include "store/pg/errors.hpp"
#include "store/pg/placement_rows.hpp"
#include "store/pg/row_mapping.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::store {

namespace {

// The placing statement is kPlaceStart + `req` + kPlaceMiddle + `matches` +
// kPlaceEnd, where `req` yields the items as rows (match_id, selection, stake,
// odds, payout, ord) and `matches` is the condition that picks their matches.
//
// Two instances: PostgreSQL keeps one plan for every execution of a prepared
// statement (the "generic plan") only when that plan looks no costlier than
// planning each execution anew. For arrays of unknown length it assumes ten
// items, finds the generic plan dearer and plans every execution again, which
// doubled its CPU per single bet (docs/performance.md). The single bet's
// scalar parameters give an exact generic plan, which it keeps.
constexpr std::string_view kPlaceStart = "WITH req AS (";
constexpr std::string_view kPlaceMiddle = R"sql(
), m AS (
  -- FOR SHARE: odds changes, suspensions, limit changes and settlement (which
  -- update the row) wait for us, and we wait for them, so the status, odds
  -- and limits we compare are the current ones.
  SELECT id, status, odds_1, odds_x, odds_2, odds_version, max_stake, max_liability FROM matches
  WHERE )sql";
constexpr std::string_view kPlaceEnd = R"sql( ORDER BY id FOR SHARE
), e AS (
  -- FOR UPDATE: placements on one match take turns from here to their
  -- commit, and each sees the exposure every earlier one left (READ
  -- COMMITTED returns the newest version of a row it waited for), so no
  -- number of concurrent placements can pass max_liability together.
  SELECT match_id, stake_1, stake_x, stake_2, payout_1, payout_x, payout_2 FROM match_exposure
  WHERE match_id IN (SELECT id FROM m) ORDER BY match_id FOR UPDATE
), who AS (
  -- The user's row is the turn every debit of theirs takes, locked after the
  -- matches' and exposure rows (by the uncorrelated condition on `e`), as
  -- every placement locks them. READ COMMITTED returns its newest version
  -- after the wait: the balance a refusal reports is the one the debit
  -- compared, not the snapshot's (a bet that waited for a concurrent spend
  -- is funds short, not sent on to the limits). FOR NO KEY UPDATE, the
  -- lock of the debit's own UPDATE: every money write of the user's waits
  -- for it, but a row that only refers to the user (the session a sign-in
  -- adds) does not.
  SELECT id, balance FROM users WHERE id = $1 AND (SELECT count(*) FROM e) >= 0
  FOR NO KEY UPDATE
), chk AS (
  SELECT req.ord, req.match_id, req.selection, req.stake, req.odds, req.payout, m.odds_version,
         m.id IS NOT NULL AS found,
         coalesce(m.status = 'open' AND req.odds =
           CASE req.selection WHEN '1' THEN m.odds_1 WHEN 'X' THEN m.odds_x WHEN '2' THEN m.odds_2 END
           AND (m.max_stake IS NULL OR req.stake <= m.max_stake),
           false) AS priced,
         EXISTS (SELECT 1 FROM bets b WHERE b.user_id = $1 AND b.match_id = req.match_id
                   AND b.selection = req.selection AND b.holds_selection) AS dup
  FROM req LEFT JOIN m ON m.id = req.match_id
), adds AS (
  -- What the items add to each match's exposure.
  SELECT match_id, count(*) AS bets,
         coalesce(sum(stake) FILTER (WHERE selection = '1'), 0) AS s1,
         coalesce(sum(stake) FILTER (WHERE selection = 'X'), 0) AS sx,
         coalesce(sum(stake) FILTER (WHERE selection = '2'), 0) AS s2,
         coalesce(sum(payout) FILTER (WHERE selection = '1'), 0) AS p1,
         coalesce(sum(payout) FILTER (WHERE selection = 'X'), 0) AS px,
         coalesce(sum(payout) FILTER (WHERE selection = '2'), 0) AS p2
  FROM chk GROUP BY match_id
), lim AS (
  -- Liability on an outcome: its potential payouts minus every stake.
  SELECT adds.match_id,
         m.max_liability IS NULL OR
           greatest(coalesce(e.payout_1, 0) + adds.p1, coalesce(e.payout_x, 0) + adds.px,
                    coalesce(e.payout_2, 0) + adds.p2)
           - (coalesce(e.stake_1 + e.stake_x + e.stake_2, 0) + adds.s1 + adds.sx + adds.s2)
           <= m.max_liability AS within
  FROM adds JOIN m ON m.id = adds.match_id LEFT JOIN e ON e.match_id = adds.match_id
), ok AS (
  SELECT bool_and(found AND priced AND NOT dup)
           AND coalesce((SELECT bool_and(within) FROM lim), true) AS all_ok,
         sum(stake)::bigint AS total
  FROM chk
), debit AS (
  -- A paused bettor, the stake limits and the funds are all compared on the
  -- newest version of the user's row, which `who` holds.
  UPDATE users u SET balance = u.balance - ok.total, stakes_total = u.stakes_total + ok.total,
                     staked_at = greatest(u.staked_at, now())
  FROM ok, who
  WHERE u.id = $1 AND who.id = $1 AND ok.all_ok AND u.balance >= ok.total
    AND coalesce(u.self_excluded_until, '-infinity') <= now()
    AND coalesce(u.timeout_until, '-infinity') <= now()
    AND (NOT u.limits_set OR within_limits(u.id, 'stake', u.stakes_total, ok.total))
  RETURNING u.balance, u.email, u.stakes_total, u.staked_at
), ins AS (
  INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout, odds_version)
  SELECT $1, chk.match_id, chk.selection, chk.stake, chk.odds, chk.payout, chk.odds_version
  FROM chk CROSS JOIN debit
  ORDER BY chk.ord
  RETURNING id, match_id, selection, created_at
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, running_total, created_at)
  SELECT $1, 'stake', -chk.stake, ins.id,
         debit.balance + ok.total - (sum(chk.stake) OVER (ORDER BY chk.ord))::bigint,
         debit.stakes_total - ok.total + (sum(chk.stake) OVER (ORDER BY chk.ord))::bigint,
         debit.staked_at
  FROM ins JOIN chk ON chk.match_id = ins.match_id AND chk.selection = ins.selection
  CROSS JOIN debit CROSS JOIN ok
  ORDER BY chk.ord
), exposed AS (
  INSERT INTO match_exposure AS x (match_id, bets, stake_1, stake_x, stake_2, payout_1, payout_x, payout_2)
  SELECT adds.match_id, adds.bets, adds.s1, adds.sx, adds.s2, adds.p1, adds.px, adds.p2
  FROM adds CROSS JOIN debit
  ON CONFLICT (match_id) DO UPDATE SET
    bets = x.bets + EXCLUDED.bets,
    stake_1 = x.stake_1 + EXCLUDED.stake_1, stake_x = x.stake_x + EXCLUDED.stake_x,
    stake_2 = x.stake_2 + EXCLUDED.stake_2, payout_1 = x.payout_1 + EXCLUDED.payout_1,
    payout_x = x.payout_x + EXCLUDED.payout_x, payout_2 = x.payout_2 + EXCLUDED.payout_2
)
SELECT chk.found, chk.priced, chk.dup, (SELECT balance FROM debit),
       ins.id, )sql" BETSDB_SQL_MICROS("ins.created_at") R"sql(,
       (SELECT email FROM debit), coalesce(lim.within, true), chk.odds_version,
       (SELECT coalesce((SELECT balance FROM who), 0) < ok.total FROM ok),
       -- Why a debit that found nothing wrong with the items did not happen
       -- (only then: each costs a look-up).
       CASE WHEN NOT EXISTS (SELECT 1 FROM debit) THEN
         (SELECT exceeds_limits($1, 'stake', ok.total) FROM ok) END,
       CASE WHEN NOT EXISTS (SELECT 1 FROM debit) THEN
         )sql" BETSDB_SQL_MICROS("betting_paused_until($1)") R"sql( END
FROM chk LEFT JOIN ins ON ins.match_id = chk.match_id AND ins.selection = chk.selection
LEFT JOIN lim ON lim.match_id = chk.match_id
ORDER BY chk.ord)sql";

// A cart: five parallel arrays (PostgreSQL array literals), so one prepared
// statement serves any number of items.
constexpr std::string_view kCartItems = R"sql(
  SELECT r.match_id, r.selection, r.stake, r.odds, r.payout, r.ord
  FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::integer[], $6::bigint[])
       WITH ORDINALITY AS r(match_id, selection, stake, odds, payout, ord)
)sql";
constexpr std::string_view kCartMatches = "id = ANY($2::bigint[])";

// One bet, as POST /v1/bets places it.
constexpr std::string_view kOneItem = R"sql(
  SELECT $2::bigint AS match_id, $3::text AS selection, $4::bigint AS stake,
         $5::integer AS odds, $6::bigint AS payout, 1::bigint AS ord
)sql";
constexpr std::string_view kOneMatch = "id = $2::bigint";

// A Statement together with the text it names.
class PlacingStatement final {
 public:
  PlacingStatement(std::string_view name, std::string_view req, std::string_view matches)
      : sql_(std::string(kPlaceStart)
                 .append(req)
                 .append(kPlaceMiddle)
                 .append(matches)
                 .append(kPlaceEnd)),
        statement_{name, sql_} {}
  PlacingStatement(const PlacingStatement&) = delete;
  PlacingStatement& operator=(const PlacingStatement&) = delete;

  const pg::Statement& statement() const noexcept { return statement_; }

 private:
  std::string sql_;
  pg::Statement statement_;
};

const pg::Statement& place_bets_statement(std::size_t items) {
  static const PlacingStatement cart("place_bets", kCartItems, kCartMatches);
  static const PlacingStatement one("place_one_bet", kOneItem, kOneMatch);
  return items == 1 ? one.statement() : cart.statement();
}

constexpr pg::Statement kFindBet{"find_bet",
                                 "SELECT " BETSDB_BET_COLUMNS " FROM bets WHERE id = $1"};

constexpr pg::Statement kCloseMatch{"settle_close_match", R"sql(
UPDATE matches SET status = 'settled', result = $2, settled_at = now()
WHERE id = $1 AND status <> 'settled'
RETURNING )sql" BETSDB_MATCH_COLUMNS};

constexpr pg::Statement kFindMatchForSettlement{
    "settle_find_match", "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE id = $1"};

// Settlements take turns, one at a time across every instance: two of
// different matches may credit the same users and finish the same
// accumulators, and would deadlock on those rows if they ran together; and
// the two settlements of an accumulator's last two pending legs would each
// see the other's leg still pending, and neither would finish the bet. A
// settlement is rare and an operator's act, so the queue costs little; the
// alternative, locking every bettor's row in id order first, cost 0.3 s for
// 50,000 bettors (docs/performance.md). Placements, checkouts and cash-outs
// take no turn: they lock the matches first, as the settlement does, so they
// wait for it (or it for them) before any user row. The key is arbitrary,
// unique to this lock.
constexpr std::int64_t kSettlementTurnKey = 0x62657473'73657474;  // "betssett"
constexpr pg::Statement kSettlementTurn{"settlement_turn", "SELECT pg_advisory_xact_lock($1)"};

// The bettors whose cached lists the settlement changes: the owners of the
// match's pending singles and of the pending accumulators with a leg on it
// (a leg that moves shows in their list, even when the bet stays pending).
constexpr pg::Statement kSettlingBettors{"settling_bettors", R"sql(
SELECT email FROM users
WHERE id IN (SELECT user_id FROM bets WHERE match_id = $1 AND status = 'pending'
             UNION
             SELECT b.user_id FROM bet_legs l JOIN bets b ON b.id = l.bet_id
             WHERE l.match_id = $1 AND l.status = 'pending'))sql"};

// For a repeated settlement, which changes nothing but invalidates as the
// first did (it may be the retry of one whose answer was lost).
constexpr pg::Statement kBettors{"settled_bettors", R"sql(
SELECT DISTINCT u.email FROM bets b JOIN users u ON u.id = b.user_id
WHERE b.match_id = $1 OR b.id IN (SELECT bet_id FROM bet_legs WHERE match_id = $1))sql"};

constexpr pg::Statement kBettorsIfSettled{"bettors_if_settled", R"sql(
SELECT DISTINCT u.email FROM bets b JOIN users u ON u.id = b.user_id
WHERE (b.match_id = $1 OR b.id IN (SELECT bet_id FROM bet_legs WHERE match_id = $1))
  AND EXISTS (SELECT 1 FROM matches WHERE id = $1 AND status = 'settled' AND result = $2))sql"};

// The end of both settlement statements, word for word: given `w`, the
// settled bets with their credit (`kind` 'payout' or 'refund' and `amount`;
// NULL kind for none), it credits each bettor once with the sum of theirs and
// writes a ledger row per credited bet, balance_after being the running
// balance per user in bet id order.
constexpr std::string_view kCreditsAndLedgerRows = R"sql(), per_user AS (
  SELECT user_id, sum(amount)::bigint AS total FROM w WHERE kind IS NOT NULL GROUP BY user_id
), u AS (
  UPDATE users SET balance = users.balance + per_user.total FROM per_user
  WHERE users.id = per_user.user_id
  RETURNING users.id, users.balance, per_user.total
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after)
  SELECT w.user_id, w.kind, w.amount, w.id,
         u.balance - u.total + (sum(w.amount) OVER (PARTITION BY w.user_id ORDER BY w.id))::bigint
  FROM w JOIN u ON u.id = w.user_id
  WHERE w.kind IS NOT NULL
  ORDER BY w.user_id, w.id
)
)sql";

// Settles every pending bet of the match as the plan says: per selection
// ($2/$3 for "1", $4/$5 for "X", $6/$7 for "2") the status the bet takes and
// its credit, a ledger kind ('payout': the bet's potential payout, 'refund':
// its stake) or NULL for none. One set-based statement for any number of
// bets; balance_after is the running balance per user in bet id order, so
// each ledger row is exact.
constexpr std::string_view kSettleBetsHead = R"sql(
WITH plan (selection, status, kind) AS (
  VALUES ('1', $2::text, $3::text), ('X', $4::text, $5::text), ('2', $6::text, $7::text)
), w AS (
  UPDATE bets SET status = plan.status, settled_at = now()
  FROM plan
  WHERE bets.match_id = $1 AND bets.status = 'pending' AND bets.selection = plan.selection
  RETURNING bets.id, bets.user_id, bets.stake, bets.potential_payout, plan.status, plan.kind,
            CASE plan.kind WHEN 'payout' THEN bets.potential_payout
                           WHEN 'refund' THEN bets.stake ELSE 0 END AS amount
)sql";
constexpr std::string_view kSettleBetsTail =
    R"sql(SELECT status, count(*), sum(stake)::bigint, sum(potential_payout)::bigint
FROM w GROUP BY status)sql";
constexpr pg::Statement kSettleBets{
    "settle_bets", pg::joined_sql<kSettleBetsHead, kCreditsAndLedgerRows, kSettleBetsTail>};

// The match's pending accumulator legs take the status a single on their
// selection takes ($2, $3, $4 for "1", "X", "2").
constexpr pg::Statement kSettleLegs{"settle_legs", R"sql(
WITH plan (selection, status) AS (VALUES ('1', $2::text), ('X', $3::text), ('2', $4::text))
UPDATE bet_legs l SET status = plan.status FROM plan
WHERE l.match_id = $1 AND l.status = 'pending' AND l.selection = plan.selection)sql"};

// Then (a statement of its own, so it sees the legs just settled) every
// pending accumulator with a leg on the match: lost when that leg lost,
// updated straight from the leg (its other legs do not matter); else, once
// none of its legs is pending, won (floor(stake x product of the won legs'
// odds), void legs counting 1) or void (every leg void: the stake back). The
// others stay pending. The two sets are disjoint (one leg per match and
// bet), so no row is updated twice. The uncorrelated EXISTS lets PostgreSQL
// skip the aggregate (and its walk of every leg) at once when all the legs
// lost. Credits and ledger rows as in settle_bets; a finished accumulator
// leaves pending_accumulators, so the same legs may be backed again.
constexpr std::string_view kFinishAccumulatorsHead = R"sql(
WITH lost AS (
  UPDATE bets b SET status = 'lost', settled_at = now()
  FROM bet_legs l
  WHERE l.match_id = $1 AND l.status = 'lost' AND b.id = l.bet_id AND b.status = 'pending'
  RETURNING b.id, b.user_id, b.stake
), complete AS (
  SELECT b.id, b.stake,
         bool_or(o.status = 'won') AS any_won,
         betsdb_product(CASE o.status WHEN 'won' THEN o.odds::numeric ELSE 1 END) AS num,
         betsdb_product(CASE o.status WHEN 'won' THEN 100::numeric ELSE 1 END) AS den
  FROM bet_legs l JOIN bets b ON b.id = l.bet_id JOIN bet_legs o ON o.bet_id = b.id
  WHERE l.match_id = $1 AND l.status <> 'lost' AND b.status = 'pending'
    AND EXISTS (SELECT 1 FROM bet_legs maybe WHERE maybe.match_id = $1 AND maybe.status <> 'lost')
    AND NOT EXISTS (SELECT 1 FROM bet_legs p WHERE p.bet_id = b.id AND p.status = 'pending')
  GROUP BY b.id, b.stake
), finished AS (
  UPDATE bets SET status = CASE WHEN c.any_won THEN 'won' ELSE 'void' END, settled_at = now()
  FROM complete c
  WHERE bets.id = c.id
  RETURNING bets.id, bets.user_id, bets.stake, bets.status,
            CASE WHEN c.any_won THEN 'payout' ELSE 'refund' END AS kind,
            CASE WHEN c.any_won THEN div(c.stake * c.num, c.den)::bigint ELSE c.stake END AS amount
), w AS (
  SELECT id, user_id, stake, 'lost'::text AS status, NULL::text AS kind, 0::bigint AS amount FROM lost
  UNION ALL
  SELECT id, user_id, stake, status, kind, amount FROM finished
), unguard AS (
  DELETE FROM pending_accumulators g USING w WHERE g.bet_id = w.id
)sql";
constexpr std::string_view kFinishAccumulatorsTail =
    R"sql(SELECT status, count(*), sum(stake)::bigint, sum(amount)::bigint FROM w GROUP BY status)sql";
constexpr pg::Statement kFinishAccumulators{
    "settle_accumulators",
    pg::joined_sql<kFinishAccumulatorsHead, kCreditsAndLedgerRows, kFinishAccumulatorsTail>};

// For a repeated settlement: the accumulators that this match's settlement
// finished (settled in its transaction: the same now() as the match), with
// what they were credited.
constexpr pg::Statement kFinishedAccumulators{"settled_accumulators_by_status", R"sql(
SELECT b.status, count(*), sum(b.stake)::bigint,
       coalesce(sum((SELECT sum(amount) FROM ledger g
                     WHERE g.bet_id = b.id AND g.kind IN ('payout', 'refund'))), 0)::bigint
FROM bets b JOIN matches m ON m.id = $1
WHERE b.type = 'accumulator' AND b.settled_at = m.settled_at
  AND b.status IN ('won', 'lost', 'void')
  AND b.id IN (SELECT bet_id FROM bet_legs WHERE match_id = $1)
GROUP BY b.status)sql"};

// Settlement leaves no pending single bet on the match.
constexpr pg::Statement kClearExposure{"settle_clear_exposure", R"sql(
UPDATE match_exposure SET bets = 0, stake_1 = 0, stake_x = 0, stake_2 = 0,
  payout_1 = 0, payout_x = 0, payout_2 = 0
WHERE match_id = $1)sql"};

// A settled match's bets by status, for the totals of a repeated settlement.
constexpr pg::Statement kSettledBets{"settled_bets_by_status", R"sql(
SELECT status, count(*), sum(stake)::bigint, sum(potential_payout)::bigint
FROM bets WHERE match_id = $1 GROUP BY status)sql"};

std::optional<std::string> credit_kind(domain::Credit credit) {
  switch (credit) {
    case domain::Credit::payout:
      return std::string(domain::to_string(domain::LedgerKind::payout));
    case domain::Credit::refund:
      return std::string(domain::to_string(domain::LedgerKind::refund));
    case domain::Credit::none:
      return std::nullopt;
  }
  return std::nullopt;
}

pg::Params settle_params(std::int64_t match_id, const domain::SettlementPlan& plan) {
  pg::Params params = pg::params(match_id);
  for (domain::Selection selection : domain::kAllSelections) {
    const std::size_t i = domain::index_of(selection);
    params.push_back(std::string(domain::to_string(plan.status[i])));
    params.push_back(credit_kind(plan.credit[i]));
  }
  return params;
}

pg::Params leg_plan_params(std::int64_t match_id, const domain::SettlementPlan& plan) {
  pg::Params params = pg::params(match_id);
  for (domain::Selection selection : domain::kAllSelections) {
    params.push_back(std::string(domain::to_string(plan.status[domain::index_of(selection)])));
  }
  return params;
}

}  // namespace

Async<domain::Placement> place_bets(pg::Pool& db, std::int64_t user_id,
                                    std::span<const domain::BetItem> items) {
  using domain::BetItem;
  pg::Params params;
  if (items.size() == 1) {
    const BetItem& item = items[0];
    params = pg::params(user_id, item.match_id, std::string(domain::to_string(item.selection)),
                        item.stake.cents(), item.odds.hundredths(), item.potential_payout.cents());
  } else {
    auto text_of = [&items](auto field) { return pg::array_literal(items, field); };
    params = pg::params(
        user_id, text_of([](const BetItem& i) { return std::to_string(i.match_id); }),
        text_of([](const BetItem& i) { return std::string(domain::to_string(i.selection)); }),
        text_of([](const BetItem& i) { return std::to_string(i.stake.cents()); }),
        text_of([](const BetItem& i) { return std::to_string(i.odds.hundredths()); }),
        text_of([](const BetItem& i) { return std::to_string(i.potential_payout.cents()); }));
  }
  auto rows = co_await db.execute(place_bets_statement(items.size()), params);
  if (!rows.ok()) co_return std::move(rows).error();

  domain::Placement out;
  const bool placed = !rows->empty() && item_placed((*rows)[0]);
  for (std::size_t i = 0; i < rows->size(); ++i) {
    add_item_row(out, (*rows)[i], user_id, items[i], placed);
  }
  co_return out;
}

Async<std::optional<domain::Bet>> find_bet(pg::Pool& db, std::int64_t bet_id) {
  auto rows = co_await db.execute(kFindBet, pg::params(bet_id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Bet>{};
  BETSDB_CO_TRY(auto bet, bet_from_row((*rows)[0]));
  co_return std::optional<domain::Bet>{std::move(bet)};
}

namespace {

// The report of a settlement from its bets by status (rows of status,
// count, stakes, potential payouts): what each status earned is the domain's
// rule (domain::credit_for), not restated here.
Result<domain::SettlementTotals> totals_from_rows(const pg::Rows& rows) {
  domain::SettlementTotals totals;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const pg::Row row = rows[i];
    const auto status = domain::parse_bet_status(row.get<std::string_view>(0));
    if (!status) return Error::internal("settlement: unknown bet status in the database");
    const auto count = row.get<std::int64_t>(1);
    switch (*status) {
      case domain::BetStatus::won:
        totals.won += count;
        break;
      case domain::BetStatus::lost:
        totals.lost += count;
        break;
      case domain::BetStatus::void_:
        totals.voided += count;
        break;
      case domain::BetStatus::pending:
      case domain::BetStatus::cashed_out:
        break;
    }
    switch (domain::credit_for(*status)) {
      case domain::Credit::payout:
        totals.paid_out += row.get<std::int64_t>(3);
        break;
      case domain::Credit::refund:
        totals.refunded += row.get<std::int64_t>(2);
        break;
      case domain::Credit::none:
        break;
    }
  }
  return totals;
}

// Adds the accumulators a settlement finished (rows of status, count,
// stakes, amounts credited) to its report.
Status add_accumulator_totals(const pg::Rows& rows, domain::SettlementTotals& totals) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const pg::Row row = rows[i];
    const auto status = domain::parse_bet_status(row.get<std::string_view>(0));
    if (!status) return Error::internal("settlement: unknown accumulator status in the database");
    const auto count = row.get<std::int64_t>(1);
    const auto credited = row.get<std::int64_t>(3);
    switch (*status) {
      case domain::BetStatus::won:
        totals.won += count;
        totals.paid_out += credited;
        break;
      case domain::BetStatus::lost:
        totals.lost += count;
        break;
      case domain::BetStatus::void_:
        totals.voided += count;
        totals.refunded += credited;
        break;
      case domain::BetStatus::pending:
      case domain::BetStatus::cashed_out:
        break;
    }
  }
  return {};
}

constexpr pg::Statement kAuditSettlement{"audit_settlement", R"sql(
INSERT INTO audit (actor, action, target, request_id, details)
VALUES ($1, 'match.settle', 'match:' || $2::bigint, $3, jsonb_build_object('result', $4::text)))sql"};

// One try of settle_match, in one transaction.
Async<domain::SettleOutcome> settle_match_once(pg::Pool& db, std::int64_t match_id,
                                               domain::MatchResult result,
                                               const domain::SettlementPlan& plan,
                                               const std::optional<domain::Actor>& actor) {
  const std::string result_text(domain::to_string(result));
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();

  auto turn = co_await tx->execute(kSettlementTurn, pg::params(kSettlementTurnKey));
  if (!turn.ok()) co_return std::move(turn).error();

  domain::SettleOutcome out;
  auto closed = co_await tx->execute(kCloseMatch, pg::params(match_id, result_text));
  if (!closed.ok()) co_return std::move(closed).error();
  if (closed->empty()) {
    // Not open: missing, or settled before (a concurrent settlement committed
    // first: our UPDATE waited for it and then matched nothing).
    auto found = co_await tx->execute(kFindMatchForSettlement, pg::params(match_id));
    if (!found.ok()) co_return std::move(found).error();
    if (found->empty()) {
      out.problem = domain::SettleProblem::match_not_found;
      co_return out;
    }
    BETSDB_CO_TRY(out.settled.match, match_from_row((*found)[0]));
    if (out.settled.match.result != result) {
      out.problem = domain::SettleProblem::already_settled;
      co_return out;
    }
    auto bets = co_await tx->execute(kSettledBets, pg::params(match_id));
    if (!bets.ok()) co_return std::move(bets).error();
    auto totals = totals_from_rows(*bets);
    if (!totals.ok()) co_return std::move(totals).error();
    out.settled.totals = *totals;
    auto accumulators = co_await tx->execute(kFinishedAccumulators, pg::params(match_id));
    if (!accumulators.ok()) co_return std::move(accumulators).error();
    if (auto s = add_accumulator_totals(*accumulators, out.settled.totals); !s.ok())
      co_return s.error();
    auto bettors = co_await tx->execute(kBettors, pg::params(match_id));
    if (!bettors.ok()) co_return std::move(bettors).error();
    for (std::size_t i = 0; i < bettors->size(); ++i) {
      out.bettor_emails.push_back((*bettors)[i].get<std::string>(0));
    }
    co_return out;
  }
  // An error drops the transaction, so the match stays open.
  BETSDB_CO_TRY(out.settled.match, match_from_row((*closed)[0]));
  out.settled.changed = true;

  auto bettors = co_await tx->execute(kSettlingBettors, pg::params(match_id));
  if (!bettors.ok()) co_return std::move(bettors).error();
  for (std::size_t i = 0; i < bettors->size(); ++i) {
    out.bettor_emails.push_back((*bettors)[i].get<std::string>(0));
  }
  auto settled = co_await tx->execute(kSettleBets, settle_params(match_id, plan));
  if (!settled.ok()) co_return std::move(settled).error();
  auto totals = totals_from_rows(*settled);
  if (!totals.ok()) co_return std::move(totals).error();
  out.settled.totals = *totals;
  auto legs = co_await tx->execute(kSettleLegs, leg_plan_params(match_id, plan));
  if (!legs.ok()) co_return std::move(legs).error();
  auto accumulators = co_await tx->execute(kFinishAccumulators, pg::params(match_id));
  if (!accumulators.ok()) co_return std::move(accumulators).error();
  if (auto s = add_accumulator_totals(*accumulators, out.settled.totals); !s.ok())
    co_return s.error();
  auto cleared = co_await tx->execute(kClearExposure, pg::params(match_id));
  if (!cleared.ok()) co_return std::move(cleared).error();
  if (actor) {
    auto audited = co_await tx->execute(
        kAuditSettlement, pg::params(actor->name, match_id, actor->request_id, result_text));
    if (!audited.ok()) co_return std::move(audited).error();
  }
  if (auto committed = co_await tx->commit(); !committed.ok())
    co_return std::move(committed).error();
  co_return out;
}

// A settlement locks the bettors it credits as its statements reach them:
// the singles' winners, then the accumulators' (a separate statement). A
// placement batch on another match, which locks its bettors in id order,
// can hold one of them while waiting for another the settlement holds, and
// PostgreSQL then aborts one of the two (deadlock_detected). A batch places
// its asks again alone; the settlement, rolled back whole, runs again.
constexpr int kSettlementTries = 3;
constexpr std::string_view kDeadlockDetected = "40P01";

}  // namespace

Async<domain::SettleOutcome> settle_match(pg::Pool& db, std::int64_t match_id,
                                          domain::MatchResult result,
                                          const domain::SettlementPlan& plan,
                                          const std::optional<domain::Actor>& actor) {
  for (int tried = 1;; ++tried) {
    auto out = co_await settle_match_once(db, match_id, result, plan, actor);
    if (out.ok() || tried == kSettlementTries || pg::sqlstate_of(out.error()) != kDeadlockDetected)
      co_return out;
  }
}

Async<std::vector<std::string>> bettors_if_settled(pg::Pool& db, std::int64_t match_id,
                                                   domain::MatchResult result) {
  const std::string result_text(domain::to_string(result));
  auto rows = co_await db.execute(kBettorsIfSettled, pg::params(match_id, result_text));
  if (!rows.ok()) co_return std::move(rows).error();
  std::vector<std::string> emails;
  emails.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) emails.push_back((*rows)[i].get<std::string>(0));
  co_return emails;
}

}  // namespace betsdb::store
