// Reading the placing statements' answer: one row per item, in the items'
// order, with the same first twelve columns whether one bettor's items were
// placed (bet_store.cpp) or several bettors' in one batch
// (placement_batch.cpp):
//   0 found, 1 priced, 2 duplicate, 3 balance after the debit (NULL: none),
//   4 bet id (NULL: not placed), 5 created_at (µs), 6 bettor's email,
//   7 within the match's liability limit, 8 the match's odds version,
//   9 funds short, 10 a stake limit short (NULL: not asked), 11 betting
//   paused until (µs; NULL: not paused or not asked).
#pragma once

#include <cstdint>

#include "domain/placement.hpp"
#include "store/pg/rows.hpp"

namespace betsdb::store {

// Whether the row's item became a bet.
bool item_placed(const pg::Row& row);

// Adds the row's item to `out`: its bet when `placed`, else its problem (and
// the bettor's reasons for a refusal). `placed` is the whole placement's
// outcome (all or nothing), read from its first row.
void add_item_row(domain::Placement& out, const pg::Row& row, std::int64_t user_id,
                  const domain::BetItem& item, bool placed);

}  // namespace betsdb::store
