// Reading the accumulator-placing statements' answer: one row per leg, in
// the legs' order, with the same first eleven columns whether one bettor's
// accumulator was placed (accumulator_store.cpp) or several bettors' in one
// batch (accumulator_batch.cpp):
//   0 found, 1 priced, 2 duplicate, 3 balance after the debit (NULL: none),
//   4 bet id (NULL: not placed), 5 created_at (µs), 6 bettor's email,
//   7 the leg's match's odds version, 8 funds short, 9 a stake limit short
//   (NULL: not asked), 10 betting paused until (µs; NULL: not paused or not
//   asked).
#pragma once

#include <cstddef>
#include <cstdint>

#include "domain/placement.hpp"
#include "store/pg/rows.hpp"

namespace betsdb::store {

// What came of `item`, read from its legs' rows, which start at `first`.
// The caller has checked that `rows` holds one row per leg from there.
domain::AccumulatorPlacement accumulator_placement(const pg::Rows& rows, std::size_t first,
                                                   std::int64_t user_id,
                                                   const domain::AccumulatorItem& item);

}  // namespace betsdb::store
