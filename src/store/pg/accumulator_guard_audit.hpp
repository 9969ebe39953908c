// The accumulators' duplicate guard, checked over the whole database: one
// pending_accumulators row per pending accumulator, with its user and set
// of legs, and none for any other bet (placement adds the row, settlement
// and cash-out delete it in their transactions; docs/operations.md). A
// missing row would let the same legs be backed twice; a stale one would
// refuse them for good. For `betsdb check`.
//
// One statement, so it reads one consistent snapshot and may run against a
// live server.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

struct AccumulatorGuardAudit {
  std::int64_t pending_checked = 0;           // pending accumulators
  std::vector<std::int64_t> mismatched_bets;  // by id
};

boost::asio::awaitable<Result<AccumulatorGuardAudit>> audit_accumulator_guards(pg::Pool& db);

}  // namespace betsdb::store
