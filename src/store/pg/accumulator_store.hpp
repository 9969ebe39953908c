// SQL for placing an accumulator (docs/api.md, "Accumulators"): ONE
// statement, like a single's. It locks the legs' matches FOR SHARE, checks
// each is unsettled and still offers the odds taken (and allows the stake),
// that the user has no pending accumulator on the same set of legs, and only
// then debits the stake (if the balance covers it), inserts the bet, its legs
// and its `stake` ledger row, and enters it in pending_accumulators, whose
// unique constraint bets_one_pending_accumulator is the last guard against
// duplicates. Accumulators take no part in match exposure.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "domain/placement.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// A concurrent duplicate surfaces as Errc::conflict with constraint
// "bets_one_pending_accumulator".
boost::asio::awaitable<Result<domain::AccumulatorPlacement>> place_accumulator(
    pg::Pool& db, std::int64_t user_id, const domain::AccumulatorItem& item);

}  // namespace betsdb::store
