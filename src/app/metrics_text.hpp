// The /metrics document: every metric family of the process in the
// Prometheus text format, from the figures a scrape has gathered.
//
// Metric names and labels are an interface (dashboards, alerts, tests rely on
// them): docs/operations.md lists them; change both together.
//
// Thread-safety: render_metrics() reads atomics (any thread) and the snapshots
// it is given; it may run on any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "http/request_metrics.hpp"
#include "service/counters.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/redis_client.hpp"

namespace betsdb::app {

// What one shard reports about the objects only its thread may read.
struct ShardSnapshot {
  std::size_t requests_in_flight = 0;
  std::size_t connections = 0;
  std::size_t stream_clients = 0;  // connections serving the live stream
  std::uint64_t stream_passes = 0;
  std::uint64_t stream_held_passes = 0;  // held back while the shard was busy
  bool redis_connected = false;
  redis::Commands::Stats redis{};
  std::size_t pg_max = 0;  // configured pool size
  std::size_t pg_idle = 0;
  std::size_t pg_busy = 0;     // handed out to a request
  std::size_t pg_waiting = 0;  // requests waiting for a connection
  pg::PoolCounters pg{};
  store::PlacementBatchCounters placement_batches{};
};

struct ScrapeInput {
  // One per shard; the counters are atomics, read as they are now.
  std::vector<const http::RequestMetrics*> requests;
  std::vector<const service::Counters*> counters;
  // One per shard that answered, or whose last answer is being reused.
  std::vector<ShardSnapshot> shards;
  std::size_t shard_count = 0;
  // Shards that did not answer this scrape in time (their last snapshot, if
  // any, is in `shards`).
  std::size_t stale_shards = 0;
  std::uint64_t dropped_log_lines = 0;
};

std::string render_metrics(const ScrapeInput& input);

// Appends betsdb_ready and betsdb_dependency_up{dependency}: what GET /readyz
// answers on the shard serving the scrape, so that readiness can be alerted
// on from /metrics alone (deploy/prometheus/betsdb.rules.yml).
void append_readiness(std::string& out, bool database, bool redis, bool streaming);

}  // namespace betsdb::app
