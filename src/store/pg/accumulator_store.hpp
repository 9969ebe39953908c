// SQL for placing one accumulator (docs/api.md, "Accumulators"): ONE
// statement, like a single's, deciding as the batch's does
// (accumulator_batch.hpp). It locks the legs' matches FOR SHARE and the
// bettor's row, checks each leg is unsettled and still offers the odds taken
// (and allows the stake) and that the bettor can pay, and only then enters
// the bet in pending_accumulators, whose unique index
// bets_one_pending_accumulator decides what is a duplicate (a pending
// accumulator on the same set of legs, even one committed while the
// statement waited), debits the stake and inserts the bet, its legs and its
// `stake` ledger row. Accumulators take no part in match exposure.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "domain/placement.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// A duplicate, concurrent or not, is answered as one (AccumulatorPlacement).
boost::asio::awaitable<Result<domain::AccumulatorPlacement>> place_accumulator(
    pg::Pool& db, std::int64_t user_id, const domain::AccumulatorItem& item);

}  // namespace betsdb::store
