// Several bettors' accumulators in one statement and one commit (group
// commit: docs/architecture.md, "Placing in batches").
//
// Each ask is placed exactly as place_accumulator() would place it alone:
// the whole bet or nothing, only while every leg's match is unsettled and
// still offers the leg's odds (and allows the stake), not when the bettor
// has a pending accumulator on the same legs, not while they are paused, and
// within their stake limits and funds; an ask that fails does not stop the
// others. Accumulators take no part in match exposure, so unlike singles
// the asks share no limit and each is always decided on its own.
//
// The asks must name distinct bettors (one debit per bettor row). A
// duplicate is answered as one, even of a placement that committed while
// the statement waited for the bettor's row: the guard's unique index
// decides (INSERT ... ON CONFLICT DO NOTHING).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "domain/placement.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

struct AccumulatorAsk {
  std::int64_t user_id = 0;
  const domain::AccumulatorItem* item = nullptr;
};

// One AccumulatorPlacement per ask, in their order.
boost::asio::awaitable<Result<std::vector<domain::AccumulatorPlacement>>> place_accumulator_batch(
    pg::Pool& db, std::span<const AccumulatorAsk> asks);

}  // namespace betsdb::store
