#include "store/pg/cash_out_store.hpp"

#include <string>

#include "store/pg/params.hpp"
#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The quoted legs as three parallel arrays, one element per leg: its
// order's number ($1), match ($2) and that match's odds_version at the
// quote ($3); the orders as four more: the bet ($4), bettor ($5), amount
// ($6) and number of quoted legs ($7).
//
// Each lock CTE waits for the one before by an uncorrelated condition, so
// the rows are locked in the order every writer locks them: the matches FOR
// SHARE (odds changes and settlement, which closes the match first, wait for
// us, and we see their newest version), the singles' exposure rows, the
// bettors' rows, then the bets FOR UPDATE (their newest status), each in id
// order. Names in `ask` and `chk` differ from bets' columns, which
// `marked` returns unqualified. One row per order, in order; its bet's
// columns (as cashed out) from column 7.
constexpr pg::Statement kCashOut{"cash_out_batch", R"sql(
WITH quoted AS (
  SELECT q.req, q.match_id, q.odds_version
  FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS q(req, match_id, odds_version)
), ask AS (
  SELECT (a.ord - 1)::integer AS req, a.ask_bet, a.ask_user, a.amount, a.legs
  FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::integer[])
       WITH ORDINALITY AS a(ask_bet, ask_user, amount, legs, ord)
), m AS (
  SELECT id, odds_version, status FROM matches
  WHERE id = ANY($2::bigint[]) ORDER BY id FOR SHARE
), exposed AS (
  SELECT match_id FROM match_exposure
  WHERE match_id IN (SELECT match_id FROM bets WHERE id = ANY($4::bigint[]) AND type = 'single')
    AND (SELECT count(*) FROM m) >= 0
  ORDER BY match_id FOR UPDATE
), who AS (
  SELECT id, email FROM users
  WHERE id = ANY($5::bigint[]) AND (SELECT count(*) FROM exposed) >= 0
  ORDER BY id FOR NO KEY UPDATE
), b AS (
  SELECT id, user_id, status FROM bets
  WHERE id = ANY($4::bigint[]) AND (SELECT count(*) FROM who) >= 0
  ORDER BY id FOR UPDATE
), chk AS (
  -- Every quoted leg's match unchanged since the quote and unsettled; and
  -- (an accumulator) as many legs pending as were quoted.
  SELECT ask.req, ask.ask_bet, ask.amount, who.email, b.status AS bet_status,
         who.id IS NOT NULL AND coalesce(b.user_id = ask.ask_user, false) AS found,
         coalesce((SELECT bool_and(coalesce(m.odds_version = q.odds_version
                                            AND m.status <> 'settled', false))
                   FROM quoted q LEFT JOIN m ON m.id = q.match_id
                   WHERE q.req = ask.req), true)
           AND (SELECT count(*) FROM bet_legs l
                WHERE l.bet_id = ask.ask_bet AND l.status = 'pending') IN (0, ask.legs) AS unmoved
  FROM ask LEFT JOIN who ON who.id = ask.ask_user LEFT JOIN b ON b.id = ask.ask_bet
), marked AS (
  UPDATE bets SET status = 'cashed_out', cash_out_amount = chk.amount, settled_at = now()
  FROM chk
  WHERE bets.id = chk.ask_bet AND chk.found AND chk.bet_status = 'pending' AND chk.unmoved
    AND bets.status = 'pending'
  RETURNING chk.req, )sql" BETSDB_BET_COLUMNS R"sql(
), unguard AS (
  -- A cashed-out accumulator's legs may be backed again.
  DELETE FROM pending_accumulators g USING marked WHERE g.bet_id = marked.id
), left_exposure AS (
  -- A cashed-out single no longer counts toward its match's exposure.
  UPDATE match_exposure e SET
    bets = e.bets - x.bets,
    stake_1 = e.stake_1 - x.stake_1, stake_x = e.stake_x - x.stake_x,
    stake_2 = e.stake_2 - x.stake_2, payout_1 = e.payout_1 - x.payout_1,
    payout_x = e.payout_x - x.payout_x, payout_2 = e.payout_2 - x.payout_2
  FROM (SELECT match_id, count(*) AS bets,
               sum(CASE selection WHEN '1' THEN stake ELSE 0 END)::bigint AS stake_1,
               sum(CASE selection WHEN 'X' THEN stake ELSE 0 END)::bigint AS stake_x,
               sum(CASE selection WHEN '2' THEN stake ELSE 0 END)::bigint AS stake_2,
               sum(CASE selection WHEN '1' THEN potential_payout ELSE 0 END)::bigint AS payout_1,
               sum(CASE selection WHEN 'X' THEN potential_payout ELSE 0 END)::bigint AS payout_x,
               sum(CASE selection WHEN '2' THEN potential_payout ELSE 0 END)::bigint AS payout_2
        FROM marked WHERE type = 'single' GROUP BY match_id) x
  WHERE e.match_id = x.match_id
), credit AS (
  UPDATE users u SET balance = u.balance + marked.cash_out_amount
  FROM marked WHERE u.id = marked.user_id
  RETURNING marked.id AS bet_id, u.id AS user_id, u.balance, marked.cash_out_amount
), led AS (
  INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after)
  SELECT user_id, 'cash_out', cash_out_amount, bet_id, balance FROM credit
)
SELECT chk.req, chk.found, chk.bet_status, chk.unmoved, chk.email, credit.balance, marked.*
FROM chk LEFT JOIN marked ON marked.req = chk.req LEFT JOIN credit ON credit.bet_id = marked.id
ORDER BY chk.req)sql"};

enum Column { kReq, kFound, kBetStatus, kUnmoved, kEmail, kBalance, kMarked, kBet };

Result<domain::CashedOut> cashed_out_from_row(const pg::Row& row) {
  domain::CashedOut out;
  if (!row.get<bool>(kFound)) {
    out.problem = domain::CashOutProblem::bet_not_found;
    return out;
  }
  if (row.get<std::string_view>(kBetStatus) != "pending") {
    out.problem = domain::CashOutProblem::already_settled;
    // For the invalidation of the bettor's lists (a retry's; service/cash_out).
    if (auto email = row.get<std::optional<std::string>>(kEmail)) out.user_email = *email;
    return out;
  }
  if (!row.get<bool>(kUnmoved)) {
    out.problem = domain::CashOutProblem::odds_changed;
    return out;
  }
  if (row.is_null(kMarked) || row.is_null(kBalance)) {
    return Error::internal("cash_out: a pending, unmoved bet was not cashed out");
  }
  auto bet = bet_from_row(row, kBet);
  if (!bet.ok()) return std::move(bet).error();
  out.bet = std::move(*bet);
  out.balance = domain::Money(row.get<std::int64_t>(kBalance));
  out.user_email = row.get<std::string>(kEmail);
  return out;
}

}  // namespace

boost::asio::awaitable<Result<std::vector<domain::CashedOut>>> cash_out_batch(
    pg::Pool& db, std::span<const domain::CashOutOrder* const> orders) {
  struct NumberedLeg {
    std::size_t order;
    const domain::QuotedLeg* leg;
  };
  std::vector<NumberedLeg> legs;
  for (std::size_t o = 0; o < orders.size(); ++o) {
    for (const domain::QuotedLeg& leg : orders[o]->pending_legs) legs.push_back({o, &leg});
  }
  const std::span<const NumberedLeg> all_legs(legs);
  using Leg = NumberedLeg;
  using Order = const domain::CashOutOrder*;
  auto params = pg::params(
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.order); }),
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.leg->match_id); }),
      pg::array_literal(all_legs, [](const Leg& l) { return std::to_string(l.leg->odds_version); }),
      pg::array_literal(orders, [](Order o) { return std::to_string(o->bet_id); }),
      pg::array_literal(orders, [](Order o) { return std::to_string(o->user_id); }),
      pg::array_literal(orders, [](Order o) { return std::to_string(o->amount.cents()); }),
      pg::array_literal(orders, [](Order o) { return std::to_string(o->pending_legs.size()); }));
  auto rows = co_await db.execute(kCashOut, params);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != orders.size()) {
    co_return Error::internal("cash_out: one row per order expected");
  }
  std::vector<domain::CashedOut> out;
  out.reserve(orders.size());
  for (std::size_t o = 0; o < orders.size(); ++o) {
    const pg::Row row = (*rows)[o];
    if (row.get<std::int64_t>(kReq) != static_cast<std::int64_t>(o))
      co_return Error::internal("cash_out: rows out of order");
    auto cashed = cashed_out_from_row(row);
    if (!cashed.ok()) co_return std::move(cashed).error();
    out.push_back(std::move(*cashed));
  }
  co_return out;
}

boost::asio::awaitable<Result<domain::CashedOut>> cash_out(pg::Pool& db,
                                                           const domain::CashOutOrder& order) {
  const domain::CashOutOrder* one[] = {&order};
  auto done = co_await cash_out_batch(db, one);
  if (!done.ok()) co_return std::move(done).error();
  co_return std::move(done->front());
}

}  // namespace betsdb::store
