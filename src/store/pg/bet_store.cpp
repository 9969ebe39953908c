#include "store/pg/bet_store.hpp"

#include "store/pg/row_mapping.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::store {

namespace {

// The placing statement is kPlaceStart + `req` + kPlaceMiddle + `matches` +
// kPlaceEnd, where `req` yields the items as rows (match_id, selection, stake,
// ord) and `matches` is the condition that picks their matches.
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
  -- FOR SHARE: odds changes and settlement (which update the row) wait for us,
  -- and we wait for them, so the odds and status we read are the current ones.
  SELECT id, status, starts_at, odds_1, odds_x, odds_2 FROM matches
  WHERE )sql";
constexpr std::string_view kPlaceEnd = R"sql( ORDER BY id FOR SHARE
), chk AS (
  SELECT req.ord, req.match_id, req.selection, req.stake,
         m.id IS NOT NULL AS found,
         CASE req.selection WHEN '1' THEN m.odds_1 WHEN 'X' THEN m.odds_x WHEN '2' THEN m.odds_2 END AS odds,
         coalesce(m.status = 'open' AND m.starts_at > now(), false) AS open,
         EXISTS (SELECT 1 FROM bets b WHERE b.user_id = $1 AND b.match_id = req.match_id
                   AND b.selection = req.selection AND b.status <> 'void') AS dup
  FROM req LEFT JOIN m ON m.id = req.match_id
), ok AS (
  SELECT bool_and(found AND odds IS NOT NULL AND open AND NOT dup) AS all_ok,
         sum(stake)::bigint AS total
  FROM chk
), debit AS (
  UPDATE users u SET balance = u.balance - ok.total FROM ok
  WHERE u.id = $1 AND ok.all_ok AND u.balance >= ok.total
  RETURNING u.balance, u.email
), ins AS (
  INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout)
  SELECT $1, chk.match_id, chk.selection, chk.stake, chk.odds, (chk.stake * chk.odds) / 100
  FROM chk CROSS JOIN debit
  ORDER BY chk.ord
  RETURNING id, match_id, selection, potential_payout, created_at
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, created_at)
  SELECT $1, 'stake', -chk.stake, ins.id,
         debit.balance + ok.total - (sum(chk.stake) OVER (ORDER BY chk.ord))::bigint,
         ins.created_at
  FROM ins JOIN chk ON chk.match_id = ins.match_id AND chk.selection = ins.selection
  CROSS JOIN debit CROSS JOIN ok
  ORDER BY chk.ord
)
SELECT chk.found, chk.odds, chk.open, chk.dup, (SELECT balance FROM debit),
       ins.id, ins.potential_payout, )sql" BETSDB_SQL_MICROS("ins.created_at") R"sql(,
       (SELECT email FROM debit)
FROM chk LEFT JOIN ins ON ins.match_id = chk.match_id AND ins.selection = chk.selection
ORDER BY chk.ord)sql";

// A cart: three parallel arrays (PostgreSQL array literals), so one prepared
// statement serves any number of items.
constexpr std::string_view kCartItems = R"sql(
  SELECT r.match_id, r.selection, r.stake, r.ord
  FROM unnest($2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY AS r(match_id, selection, stake, ord)
)sql";
constexpr std::string_view kCartMatches = "id = ANY($2::bigint[])";

// One bet, as POST /v1/bets places it.
constexpr std::string_view kOneItem = R"sql(
  SELECT $2::bigint AS match_id, $3::text AS selection, $4::bigint AS stake, 1::bigint AS ord
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
WHERE id = $1 AND status = 'open'
RETURNING )sql" BETSDB_MATCH_COLUMNS};

constexpr pg::Statement kFindMatchForSettlement{
    "settle_find_match", "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE id = $1"};

// Settlements of different matches touch overlapping users; taking the user
// rows in id order first means two of them can never deadlock.
constexpr pg::Statement kLockBettors{"settle_lock_bettors", R"sql(
SELECT id FROM users
WHERE id IN (SELECT user_id FROM bets WHERE match_id = $1 AND status = 'pending')
ORDER BY id FOR NO KEY UPDATE)sql"};

// Credits winners (status 'won', kind 'payout', selection = $2) or refunds
// everyone (status 'void', kind 'refund', $2 NULL): one set-based statement
// for any number of bets. balance_after is the running balance per user in
// bet id order, so each ledger row is exact.
constexpr pg::Statement kCreditBets{"settle_credit_bets", R"sql(
WITH w AS (
  UPDATE bets SET status = $3, settled_at = now()
  WHERE match_id = $1 AND status = 'pending' AND ($2::text IS NULL OR selection = $2)
  RETURNING id, user_id, CASE WHEN $3 = 'won' THEN potential_payout ELSE stake END AS amount
), per_user AS (
  SELECT user_id, sum(amount)::bigint AS total FROM w GROUP BY user_id
), u AS (
  UPDATE users SET balance = users.balance + per_user.total FROM per_user
  WHERE users.id = per_user.user_id
  RETURNING users.id, users.balance, per_user.total
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after)
  SELECT w.user_id, $4, w.amount, w.id,
         u.balance - u.total + (sum(w.amount) OVER (PARTITION BY w.user_id ORDER BY w.id))::bigint
  FROM w JOIN u ON u.id = w.user_id
  ORDER BY w.user_id, w.id
)
SELECT count(*), coalesce(sum(amount), 0)::bigint FROM w)sql"};

constexpr pg::Statement kLoseBets{"settle_lose_bets", R"sql(
UPDATE bets SET status = 'lost', settled_at = now()
WHERE match_id = $1 AND status = 'pending')sql"};

constexpr pg::Statement kSettlementTotals{"settlement_totals", R"sql(
SELECT count(*) FILTER (WHERE status = 'won'),
       count(*) FILTER (WHERE status = 'lost'),
       count(*) FILTER (WHERE status = 'void'),
       coalesce(sum(potential_payout) FILTER (WHERE status = 'won'), 0)::bigint,
       coalesce(sum(stake) FILTER (WHERE status = 'void'), 0)::bigint
FROM bets WHERE match_id = $1)sql"};

template <class Item, class Text>
std::string array_literal(std::span<const Item> items, Text text) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += text(items[i]);
  }
  out += '}';
  return out;
}

ItemProblem problem_of(const pg::Row& row) {
  if (!row.get<bool>(0)) return ItemProblem::match_not_found;
  if (!row.get<std::optional<std::int64_t>>(1)) return ItemProblem::invalid_selection;
  if (!row.get<bool>(2)) return ItemProblem::match_closed;
  if (row.get<bool>(3)) return ItemProblem::duplicate_bet;
  return ItemProblem::none;
}

}  // namespace

Async<Placement> place_bets(pg::Pool& db, std::int64_t user_id, std::span<const BetItem> items) {
  pg::Params params;
  if (items.size() == 1) {
    params = pg::params(user_id, items[0].match_id,
                        std::string(domain::to_string(items[0].selection)), items[0].stake.cents());
  } else {
    auto match_ids =
        array_literal(items, [](const BetItem& i) { return std::to_string(i.match_id); });
    auto selections = array_literal(
        items, [](const BetItem& i) { return std::string(domain::to_string(i.selection)); });
    auto stakes =
        array_literal(items, [](const BetItem& i) { return std::to_string(i.stake.cents()); });
    params = pg::params(user_id, std::move(match_ids), std::move(selections), std::move(stakes));
  }
  auto rows = co_await db.execute(place_bets_statement(items.size()), params);
  if (!rows.ok()) co_return std::move(rows).error();

  Placement out;
  const bool placed = !rows->empty() && (*rows)[0].get<std::optional<std::int64_t>>(5).has_value();
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const pg::Row row = (*rows)[i];
    if (!placed) {
      out.problems.push_back(problem_of(row));
      continue;
    }
    domain::Bet bet;
    bet.id = row.get<std::int64_t>(5);
    bet.user_id = user_id;
    bet.match_id = items[i].match_id;
    bet.selection = items[i].selection;
    bet.stake = items[i].stake;
    // Only reachable without the bets table's odds CHECK. The statement has
    // committed, so the client is told 500 about a placed bet: still better
    // than a bet answered with odds made up for it.
    BETSDB_CO_TRY(bet.odds, odds_from_column(row, 1, "bets.odds", bet.id));
    bet.potential_payout = domain::Money(row.get<std::int64_t>(6));
    bet.status = domain::BetStatus::pending;
    bet.created_at = timestamp_from_micros(row.get<std::int64_t>(7));
    out.balance = domain::Money(row.get<std::int64_t>(4));
    if (i == 0) out.user_email = row.get<std::string>(8);
    out.bets.push_back(std::move(bet));
  }
  if (!placed) {
    bool all_fine = true;
    for (auto p : out.problems) all_fine = all_fine && p == ItemProblem::none;
    out.insufficient_funds = all_fine;
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

SettlementTotals totals_from_row(const pg::Row& row) {
  return SettlementTotals{row.get<std::int64_t>(0), row.get<std::int64_t>(1),
                          row.get<std::int64_t>(2), row.get<std::int64_t>(3),
                          row.get<std::int64_t>(4)};
}

}  // namespace

Async<SettleOutcome> settle_match(pg::Pool& db, std::int64_t match_id, domain::MatchResult result) {
  const std::string result_text(domain::to_string(result));
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();

  SettleOutcome out;
  auto closed = co_await tx->execute(kCloseMatch, pg::params(match_id, result_text));
  if (!closed.ok()) co_return std::move(closed).error();
  if (closed->empty()) {
    // Not open: missing, or settled before (a concurrent settlement committed
    // first: our UPDATE waited for it and then matched nothing).
    auto found = co_await tx->execute(kFindMatchForSettlement, pg::params(match_id));
    if (!found.ok()) co_return std::move(found).error();
    if (found->empty()) {
      out.problem = SettleProblem::match_not_found;
      co_return out;
    }
    BETSDB_CO_TRY(out.settled.match, match_from_row((*found)[0]));
    if (out.settled.match.result != result) {
      out.problem = SettleProblem::already_settled;
      co_return out;
    }
    auto totals = co_await tx->execute(kSettlementTotals, pg::params(match_id));
    if (!totals.ok()) co_return std::move(totals).error();
    out.settled.totals = totals_from_row((*totals)[0]);
    co_return out;
  }
  // An error drops the transaction, so the match stays open.
  BETSDB_CO_TRY(out.settled.match, match_from_row((*closed)[0]));
  out.settled.changed = true;

  auto locked = co_await tx->execute(kLockBettors, pg::params(match_id));
  if (!locked.ok()) co_return std::move(locked).error();

  const auto winner = domain::winning_selection(result);
  const pg::Params credit =
      winner ? pg::params(match_id, std::string(domain::to_string(*winner)), "won", "payout")
             : pg::params(match_id, std::nullopt, "void", "refund");
  auto credited = co_await tx->execute(kCreditBets, credit);
  if (!credited.ok()) co_return std::move(credited).error();
  const std::int64_t credited_count = (*credited)[0].get<std::int64_t>(0);
  const std::int64_t credited_amount = (*credited)[0].get<std::int64_t>(1);
  if (winner) {
    out.settled.totals.won = credited_count;
    out.settled.totals.paid_out = credited_amount;
    auto lost = co_await tx->execute(kLoseBets, pg::params(match_id));
    if (!lost.ok()) co_return std::move(lost).error();
    out.settled.totals.lost = static_cast<std::int64_t>(lost->affected());
  } else {
    out.settled.totals.voided = credited_count;
    out.settled.totals.refunded = credited_amount;
  }
  if (auto committed = co_await tx->commit(); !committed.ok())
    co_return std::move(committed).error();
  co_return out;
}

}  // namespace betsdb::store
