#include "store/pg/cash_out_store.hpp"

#include "store/pg/row_mapping.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::store {

namespace {

constexpr pg::Statement kLockLegMatches{"cash_out_lock_matches", R"sql(
SELECT id, odds_version, status FROM matches WHERE id = ANY($1::bigint[])
ORDER BY id FOR SHARE)sql"};

// A single's match exposure, locked before the user as placements lock it.
constexpr pg::Statement kLockExposure{"cash_out_lock_exposure", R"sql(
SELECT e.match_id FROM bets b JOIN match_exposure e ON e.match_id = b.match_id
WHERE b.id = $1 AND b.type = 'single' FOR UPDATE OF e)sql"};

constexpr pg::Statement kLockUser{"cash_out_lock_user",
                                  "SELECT email FROM users WHERE id = $1 FOR NO KEY UPDATE"};

constexpr pg::Statement kLockBet{"cash_out_lock_bet", R"sql(
SELECT status FROM bets WHERE id = $1 AND user_id = $2 FOR UPDATE)sql"};

// The quoted pending legs of an accumulator that are still pending.
constexpr pg::Statement kPendingLegs{"cash_out_pending_legs", R"sql(
SELECT match_id FROM bet_legs WHERE bet_id = $1 AND status = 'pending')sql"};

// A cashed-out accumulator leaves pending_accumulators, so the same legs
// may be backed again.
constexpr pg::Statement kMarkCashedOut{"cash_out_mark", R"sql(
WITH marked AS (
  UPDATE bets SET status = 'cashed_out', cash_out_amount = $2, settled_at = now()
  WHERE id = $1 AND status = 'pending'
  RETURNING id
)
DELETE FROM pending_accumulators g USING marked WHERE g.bet_id = marked.id)sql"};

constexpr pg::Statement kCredit{"cash_out_credit", R"sql(
WITH u AS (
  UPDATE users SET balance = balance + $2 WHERE id = $1 RETURNING balance
)
INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after)
SELECT $1, 'cash_out', $2, $3, u.balance FROM u
RETURNING balance_after)sql"};

// A cashed-out single no longer counts toward its match's exposure.
constexpr pg::Statement kLeaveExposure{"cash_out_leave_exposure", R"sql(
UPDATE match_exposure e SET
  bets = e.bets - 1,
  stake_1 = e.stake_1 - CASE b.selection WHEN '1' THEN b.stake ELSE 0 END,
  stake_x = e.stake_x - CASE b.selection WHEN 'X' THEN b.stake ELSE 0 END,
  stake_2 = e.stake_2 - CASE b.selection WHEN '2' THEN b.stake ELSE 0 END,
  payout_1 = e.payout_1 - CASE b.selection WHEN '1' THEN b.potential_payout ELSE 0 END,
  payout_x = e.payout_x - CASE b.selection WHEN 'X' THEN b.potential_payout ELSE 0 END,
  payout_2 = e.payout_2 - CASE b.selection WHEN '2' THEN b.potential_payout ELSE 0 END
FROM bets b WHERE b.id = $1 AND b.type = 'single' AND e.match_id = b.match_id)sql"};

constexpr pg::Statement kBetNow{"cash_out_bet",
                                "SELECT " BETSDB_BET_COLUMNS " FROM bets WHERE id = $1"};

std::string id_array(const std::vector<domain::QuotedLeg>& legs) {
  std::string out = "{";
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(legs[i].match_id);
  }
  out += '}';
  return out;
}

}  // namespace

boost::asio::awaitable<Result<domain::CashedOut>> cash_out(pg::Pool& db,
                                                           const domain::CashOutOrder& order) {
  auto connection = co_await db.acquire();
  if (!connection.ok()) co_return std::move(connection).error();
  auto tx = co_await pg::Transaction::begin(*connection);
  if (!tx.ok()) co_return std::move(tx).error();

  domain::CashedOut out;
  auto read_bet = [&]() -> boost::asio::awaitable<Status> {
    auto rows = co_await tx->execute(kBetNow, pg::params(order.bet_id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return Status{};
    auto bet = bet_from_row((*rows)[0]);
    if (!bet.ok()) co_return std::move(bet).error();
    out.bet = std::move(*bet);
    co_return Status{};
  };

  auto matches = co_await tx->execute(kLockLegMatches, pg::params(id_array(order.pending_legs)));
  if (!matches.ok()) co_return std::move(matches).error();
  auto exposure = co_await tx->execute(kLockExposure, pg::params(order.bet_id));
  if (!exposure.ok()) co_return std::move(exposure).error();
  auto user = co_await tx->execute(kLockUser, pg::params(order.user_id));
  if (!user.ok()) co_return std::move(user).error();
  auto bet = co_await tx->execute(kLockBet, pg::params(order.bet_id, order.user_id));
  if (!bet.ok()) co_return std::move(bet).error();
  if (user->empty() || bet->empty()) {
    out.problem = domain::CashOutProblem::bet_not_found;
    co_return out;
  }
  if ((*bet)[0].get<std::string_view>(0) != "pending") {
    out.problem = domain::CashOutProblem::already_settled;
    if (auto s = co_await read_bet(); !s.ok()) co_return s.error();
    co_return out;
  }
  // Every quoted leg's match unchanged since the quote and still unsettled.
  bool moved = matches->size() != order.pending_legs.size();
  for (std::size_t i = 0; !moved && i < matches->size(); ++i) {
    const pg::Row row = (*matches)[i];
    const std::int64_t id = row.get<std::int64_t>(0);
    bool quoted = false;
    for (const domain::QuotedLeg& leg : order.pending_legs) {
      if (leg.match_id == id && leg.odds_version == row.get<std::int64_t>(1)) quoted = true;
    }
    if (!quoted || row.get<std::string_view>(2) == "settled") moved = true;
  }
  auto pending = co_await tx->execute(kPendingLegs, pg::params(order.bet_id));
  if (!pending.ok()) co_return std::move(pending).error();
  if (!pending->empty() && pending->size() != order.pending_legs.size()) moved = true;
  if (moved) {
    out.problem = domain::CashOutProblem::odds_changed;
    co_return out;
  }

  auto marked =
      co_await tx->execute(kMarkCashedOut, pg::params(order.bet_id, order.amount.cents()));
  if (!marked.ok()) co_return std::move(marked).error();
  auto left = co_await tx->execute(kLeaveExposure, pg::params(order.bet_id));
  if (!left.ok()) co_return std::move(left).error();
  auto credited =
      co_await tx->execute(kCredit, pg::params(order.user_id, order.amount.cents(), order.bet_id));
  if (!credited.ok()) co_return std::move(credited).error();
  if (credited->size() != 1) co_return Error::internal("cash_out: the credit wrote no ledger row");
  out.balance = domain::Money((*credited)[0].get<std::int64_t>(0));
  out.user_email = (*user)[0].get<std::string>(0);
  if (auto s = co_await read_bet(); !s.ok()) co_return s.error();
  if (auto committed = co_await tx->commit(); !committed.ok())
    co_return std::move(committed).error();
  co_return out;
}

}  // namespace betsdb::store
