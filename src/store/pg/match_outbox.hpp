// The live stream's outbox (db/migrations/007_match_outbox.sql): the match
// changes committed and not yet published, oldest first.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/entities.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

struct OutboxEntry {
  std::int64_t id = 0;  // orders the changes of one match as they committed
  // Random, per row: names this change's event in the stream's once-only
  // mark, where an id handed out again (after a failover or a restore) would not.
  std::string publish_key;
  domain::Match match;  // the row as that change left it
};

// At most `limit` entries in id order.
boost::asio::awaitable<Result<std::vector<OutboxEntry>>> pending_match_changes(pg::Pool& db,
                                                                               std::size_t limit);
// Drops published entries; ids already gone are fine (another publisher's).
boost::asio::awaitable<Result<void>> forget_match_changes(pg::Pool& db,
                                                          const std::vector<std::int64_t>& ids);

}  // namespace betsdb::store
