// A shard: one event-loop thread with its own io_context, PostgreSQL pool,
// Redis client, router and HTTP server. Shards share nothing but the
// listening port (SO_REUSEPORT), so no lock sits on the request path; the
// one thing they tell each other, verified tokens, is posted to the peer's
// loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "api/api_shard.hpp"
#include "api/stream_hub.hpp"
#include "app/config.hpp"
#include "app/metrics_registry.hpp"
#include "app/periodic_task.hpp"
#include "http/request_metrics.hpp"
#include "http/server.hpp"
#include "service/match_event_publisher.hpp"
#include "service/password_pool.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/commands.hpp"

namespace betsdb::app {

class Shard final {
 public:
  // Registers itself with `metrics`, which must outlive it.
  // `passwords` is the process's password pool, and `streams` its cap on
  // live stream clients, both shared by every shard.
  Shard(const Config& config, unsigned pool_size, MetricsRegistry& metrics,
        std::shared_ptr<service::PasswordPool> passwords,
        std::shared_ptr<api::StreamAdmission> streams);
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Passes every token this shard verifies on to `peers`. Call before
  // start(); the peers must outlive this shard's loop.
  void share_verified_tokens_with(std::vector<Shard*> peers);
  // Makes this shard the one of its process that does the periodic work:
  // folding the summary's totals, deleting spent sessions
  // (app/periodic_task.hpp). Call before start().
  void keep_house();
  void start();  // runs the loop on a new thread
  // Hands live stream events to this shard's clients; safe from any thread.
  void deliver_stream_events(std::shared_ptr<const api::FrameBatch> batch);
  // The process's stream reader knows its position: serve streams. Any thread.
  void open_stream();
  // The reader missed events (StreamReader's `gap`): every open stream ends
  // after what it has queued, so its client resumes. Any thread.
  void end_streams();
  // Graceful stop, safe to call from any thread: stops accepting, lets
  // in-flight requests finish (up to the grace period), then closes the
  // pools so the loop ends.
  void request_stop();
  void join();

 private:
  void adopt_verified_token(const Digest& digest, const api::KnownToken& known);  // any thread
  boost::asio::awaitable<void> drain_and_close();
  ShardSnapshot snapshot() const;  // on the loop's thread only

  const Config& config_;
  boost::asio::io_context ioc_{1};
  std::shared_ptr<pg::Pool> db_;
  std::shared_ptr<pg::Pool> replica_db_;  // null without a standby
  std::shared_ptr<store::PlacementBatcher> placements_;
  std::shared_ptr<redis::Commands> redis_;
  std::unique_ptr<api::ApiShard> api_;
  std::shared_ptr<service::MatchEventPublisher> publisher_;
  // Null on all shards but one.
  std::shared_ptr<PeriodicTask> folder_;
  std::shared_ptr<PeriodicTask> session_pruner_;
  http::Router router_;
  std::unique_ptr<http::RequestMetrics> request_metrics_;
  std::uint64_t requests_answered_ = 0;  // read by the stream hub's pacer
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace betsdb::app
