// Sessions that can no longer be used leave the table: without this, every
// sign-in would add a row for good.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "store/pg/pool.hpp"

namespace betsdb::store {

// Deletes up to 10,000 sessions that expired, or were revoked more than a day
// ago (a sign-out retried within the day still finds its own), and returns
// how many. A token whose row is gone is unknown, which is what an expired or
// revoked one is too: 401.
boost::asio::awaitable<Result<std::int64_t>> prune_sessions(pg::Pool& db);

}  // namespace betsdb::store
