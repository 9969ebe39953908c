// The process's /metrics: the shards register what only they can read, and
// a scrape, served by any one shard, gathers it all.
//
// Counters that the request path bumps are per-shard atomics
// (http::RequestMetrics, service::Counters), read directly. The Redis client, PostgreSQL pool and
// HTTP server of a shard are not thread-safe, so a scrape posts a snapshot
// job to each shard's loop and waits for the answers, at most kSnapshotWait:
// scrapes cost the shards one small job each, and nothing is published on the
// request path. A shard that does not answer in time (stuck, or stopping)
// is reported with its last snapshot and counted in
// betsdb_metrics_stale_shards, so its counters never seem to go backwards.
//
// Thread-safety: add_shard() only before any shard runs (the list is then
// read without a lock); render() from any shard's loop, concurrently.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/metrics_text.hpp"

namespace betsdb::app {

// Long enough for a loaded shard to reach a job in its queue, short enough
// to stay well inside Prometheus's default 10 s scrape timeout.
inline constexpr std::chrono::milliseconds kSnapshotWait{1000};

class MetricsRegistry final {
 public:
  struct ShardSource {
    boost::asio::any_io_executor executor;    // the shard's loop
    std::function<ShardSnapshot()> snapshot;  // called on that loop only
    const http::RequestMetrics* requests = nullptr;
    const service::Counters* counters = nullptr;  // the shard's use cases and cache
  };

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  void add_shard(ShardSource source);

  // The whole document. Must run on an io_context thread (it waits there).
  boost::asio::awaitable<std::string> render(std::chrono::milliseconds wait = kSnapshotWait) const;

  // Each shard's snapshot, or nullopt for one that did not answer within `wait`.
  boost::asio::awaitable<std::vector<std::optional<ShardSnapshot>>> gather(
      std::chrono::milliseconds wait) const;

 private:
  std::vector<ShardSource> shards_;
  // The last snapshot each shard gave, standing in when it is late.
  mutable std::mutex last_mutex_;
  mutable std::vector<std::optional<ShardSnapshot>> last_;
};

}  // namespace betsdb::app
