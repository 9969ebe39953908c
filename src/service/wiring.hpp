// The production Context of one shard: every port on the shard's PostgreSQL
// pool and Redis client (service/adapters/), and the read cache on Redis.
#pragma once

#include <chrono>
#include <memory>

#include "domain/cash_out.hpp"
#include "service/context.hpp"
#include "service/password_pool.hpp"

namespace betsdb::pg {
class Pool;
class ReplicaMonitor;
}  // namespace betsdb::pg
namespace betsdb::store {
class PlacementBatcher;
}  // namespace betsdb::store
namespace betsdb::redis {
class Commands;
}

namespace betsdb::service {

struct Wiring {
  std::shared_ptr<pg::Pool> db;
  std::shared_ptr<redis::Commands> redis;
  std::chrono::seconds cache_ttl{60};
  bool cache = true;  // false: reads always go to PostgreSQL
  // false (tools that exit): an invalidation Redis does not take is counted
  // (ReadCache::overdue), not retried in the background.
  bool background_retries = true;
  // Optional: a standby for cache misses (service/read_routing.hpp).
  std::shared_ptr<pg::ReplicaMonitor> replica = nullptr;
  domain::Margin cash_out_margin = {};
  // Shared by every shard; null: passwords cannot be set or checked (tools).
  std::shared_ptr<PasswordPool> passwords = nullptr;
  std::int64_t signup_rate_limit = 0;  // 0: no limit
  // The live stream holds at least this many events (API.md: 10,000); more
  // than app::StreamReader reads at once, which its gap check relies on.
  std::size_t stream_keep = 10'000;
  // The shard's group commit for placements (store/pg/placement_batcher.hpp);
  // null: the bet store makes its own.
  std::shared_ptr<store::PlacementBatcher> placements = nullptr;
};

Context connect_context(const Wiring& wiring);

}  // namespace betsdb::service
