// Fetching several matches by id in one round trip (the cart shows each
// item's current odds).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "domain/entities.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// The matches among `ids` that exist, in no particular order; repeated ids
// are fine. One statement whatever the number of ids.
boost::asio::awaitable<Result<std::vector<domain::Match>>> find_matches(
    pg::Pool& db, std::span<const std::int64_t> ids);

}  // namespace betsdb::store
