// Several bettors' placements in one statement and one commit (group
// commit: docs/architecture.md, "Placing in batches").
//
// Each ask is placed exactly as place_bets() would place it alone: all of
// its items or none, each item only while its match is unsettled and still
// offers the item's odds, no duplicate, the bettor not paused, within their
// stake limits and funds; an ask that fails does not stop the others. One
// thing the asks share is each match's liability limit: if the asks that
// would be placed together pass some match's max_liability, the statement
// places nothing and says so, and the caller places them one by one, so that
// the limit refuses the ones that come last, as it would have without the
// batch.
//
// The asks must name distinct bettors (one debit per bettor row), and each
// ask distinct (match, selection) pairs. A concurrent duplicate fails the
// whole statement with Errc::conflict (constraint
// "bets_one_live_per_selection"), which also places nothing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "domain/placement.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

struct PlacementAsk {
  std::int64_t user_id = 0;
  std::span<const domain::BetItem> items;
};

// One Placement per ask, in their order; nullopt when the asks together
// would pass a match's liability limit (nothing placed).
boost::asio::awaitable<Result<std::optional<std::vector<domain::Placement>>>> place_batch(
    pg::Pool& db, std::span<const PlacementAsk> asks);

}  // namespace betsdb::store
