// Every bet's ledger rows, checked over the whole database: one `stake` row
// of minus its stake, and the one credit its status calls for, of the right
// amount: a won single its potential payout, a won accumulator
// floor(stake x product of its won legs' odds), a void bet its stake
// (`refund`), a cashed-out bet its cash_out_amount (`cash_out`); a pending
// or lost bet none. For `betsdb check`.
//
// One statement, so it reads one consistent snapshot and may run against a
// live server. It reads every bet and ledger row: meant for operators.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

struct BetLedgerAudit {
  std::int64_t bets_checked = 0;
  std::vector<std::int64_t> mismatched_bets;  // by id
};

boost::asio::awaitable<Result<BetLedgerAudit>> audit_bet_ledger(pg::Pool& db);

}  // namespace betsdb::store
