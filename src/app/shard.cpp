#include "app/shard.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/views.hpp"
#include "app/access_log.hpp"
#include "app/metrics_text.hpp"
#include "app/redis_connect.hpp"
#include "service/readiness.hpp"
#include "service/wiring.hpp"
#include "store/pg/bet_totals.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/replica_monitor.hpp"
#include "store/pg/session_pruning.hpp"
#include "store/redis/redis_client.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

namespace {
// How often a stopping shard looks whether its last connection has closed.
constexpr std::chrono::milliseconds kDrainPoll{10};
// The standby's replay position is sampled again when a miss finds the last
// sample older than this, and is not trusted at all past the second bound.
constexpr std::chrono::milliseconds kReplayRefreshAfter{50};
constexpr std::chrono::milliseconds kReplaySampleValidFor{1000};
// How often the outbox is looked at for changes no nudge announced.
constexpr std::chrono::milliseconds kPublishSweep{1000};
// How often the bets' total changes are folded: the summary reads what is not
// folded yet, up to about this much time's placements.
constexpr std::chrono::milliseconds kFoldBetTotalsEvery{1000};
// Sessions are deleted a batch at a time; a table that grew faster than
// a batch an hour only shrinks more slowly.
constexpr std::chrono::milliseconds kPruneSessionsEvery{std::chrono::hours(1)};
}  // namespace

Shard::Shard(const Config& config, unsigned pool_size, MetricsRegistry& metrics,
             std::shared_ptr<service::PasswordPool> passwords,
             std::shared_ptr<api::StreamAdmission> streams)
    : config_(config) {
  // main checked the configuration before building shards, so a failure
  // here is a programming error; the fallback only keeps the shard whole.
  auto redis = make_redis(ioc_.get_executor(), config, RedisUse::requests);
  redis_ =
      redis.ok() ? std::move(*redis) : redis::Client::create(ioc_.get_executor(), redis::Config{});
  pg::PoolConfig pool_config;
  pool_config.conninfo = config.database_url;
  pool_config.size = pool_size;
  db_ = pg::Pool::create(ioc_.get_executor(), pool_config);
  service::Wiring wiring{db_, redis_, std::chrono::seconds(config.cache_ttl_seconds)};
  wiring.cash_out_margin = config.cash_out_margin;
  wiring.passwords = std::move(passwords);
  wiring.signup_rate_limit = config.signup_rate_limit;
  placements_ = std::make_shared<store::PlacementBatcher>(db_);
  wiring.placements = placements_;
  if (!config.database_replica_url.empty()) {
    // Small: it serves only cache misses, and the primary takes what it cannot.
    pg::PoolConfig replica_config;
    replica_config.conninfo = config.database_replica_url;
    replica_config.size = std::max(1U, pool_size / 2);
    replica_db_ = pg::Pool::create(ioc_.get_executor(), replica_config);
    wiring.replica =
        pg::ReplicaMonitor::create(replica_db_, kReplayRefreshAfter, kReplaySampleValidFor);
  }
  api_ = std::make_unique<api::ApiShard>(
      service::connect_context(wiring),
      api::AdminTokens{config.admin_token, config.admin_token_previous},
      [this, &metrics]() -> asio::awaitable<std::string> {
        // The serving shard's own /readyz check, one SELECT 1 and one PING a
        // scrape, so that readiness needs no probe of its own to alert on.
        const service::Readiness ready = co_await service::check_readiness(api_->ctx);
        const bool streaming = !api_->stream_hub || api_->stream_hub->ready();
        std::string out = co_await metrics.render();
        append_readiness(out, ready.database, ready.redis, streaming);
        co_return out;
      });
  api::FanOutPacer::Settings pacing;
  pacing.max_delay = config.stream_max_hold;
  api_->stream_hub =
      api::StreamHub::create(ioc_.get_executor(), config.stream_heartbeat, pacing, [this] {
        auto sample = api::FanOutPacer::sample_now();
        sample.requests = requests_answered_;
        return sample;
      });
  api_->stream_admission = std::move(streams);
  api_->stream_client_buffer = config.stream_client_buffer;
  publisher_ = service::MatchEventPublisher::create(ioc_.get_executor(), api_->ctx,
                                                    &api::render_match, kPublishSweep);
  api_->ctx.match_changed = [publisher = publisher_.get()] { publisher->nudge(); };
  router_ = api::build_router(*api_);
  request_metrics_ = std::make_unique<http::RequestMetrics>(router_);
  http::ServerLimits limits;
  limits.idle_timeout = config.idle_timeout;
  limits.request_timeout = config.request_timeout;
  limits.max_connections = config.max_connections;
  limits.trusted_proxies = config.trusted_proxies;
  server_ = std::make_unique<http::Server>(ioc_, router_, limits);
  server_->set_observer([this](const http::RequestRecord& record) {
    ++requests_answered_;
    request_metrics_->record(record);
    log_access(record);
  });
  metrics.add_shard({ioc_.get_executor(), [this] { return snapshot(); }, request_metrics_.get(),
                     api_->ctx.counters.get()});
}

ShardSnapshot Shard::snapshot() const {
  ShardSnapshot s;
  s.requests_in_flight = server_->requests_in_flight();
  s.connections = server_->connections();
  s.stream_clients = api_->stream_hub->clients();
  s.stream_passes = api_->stream_hub->passes();
  s.stream_held_passes = api_->stream_hub->held_passes();
  s.redis_connected = redis_->connected();
  s.redis = redis_->stats();
  const auto& pool = *db_;
  s.pg_max = pool.config().size;
  s.pg_idle = pool.idle();
  s.pg_busy = pool.in_use();
  s.pg_waiting = pool.waiting();
  s.pg = pool.counters();
  s.placement_batches = placements_->counters();
  return s;
}

Shard::~Shard() {
  join();
}

Result<asio::ip::tcp::endpoint> Shard::listen(const asio::ip::tcp::endpoint& endpoint) {
  return server_->listen(endpoint, /*reuse_port=*/true);
}

void Shard::share_verified_tokens_with(std::vector<Shard*> peers) {
  api_->auth.on_verified(
      [peers = std::move(peers)](const Digest& digest, const api::KnownToken& known) {
        for (Shard* peer : peers) peer->adopt_verified_token(digest, known);
      });
}

void Shard::adopt_verified_token(const Digest& digest, const api::KnownToken& known) {
  // Posted, so the peer's cache is only touched from its own thread.
  asio::post(ioc_, [this, digest, known] { api_->auth.adopt(digest, known); });
}

void Shard::keep_house() {
  // Folds of several instances take turns (the others skip theirs).
  folder_ = PeriodicTask::create(ioc_.get_executor(), kFoldBetTotalsEvery,
                                 [db = db_]() -> asio::awaitable<void> {
                                   auto folded = co_await store::fold_bet_totals(*db);
                                   // Debug only: during an outage every fold fails the same way,
                                   // /readyz says which dependency is down, and the changes wait
                                   // for the next fold.
                                   if (!folded.ok())
                                     spdlog::debug("bet totals fold: {}", folded.error().detail);
                                 });
  session_pruner_ = PeriodicTask::create(
      ioc_.get_executor(), kPruneSessionsEvery, [db = db_]() -> asio::awaitable<void> {
        auto pruned = co_await store::prune_sessions(*db);
        if (!pruned.ok()) {
          spdlog::warn("spent sessions not deleted: {}", pruned.error().detail);
        } else if (*pruned > 0) {
          spdlog::info("deleted {} spent sessions", *pruned);
        }
      });
}

void Shard::start() {
  redis_->start();
  server_->start();
  api_->stream_hub->start();
  publisher_->start();
  if (folder_) folder_->start();
  if (session_pruner_) session_pruner_->start();
  thread_ = std::thread([this] { ioc_.run(); });
}

void Shard::open_stream() {
  asio::post(ioc_, [hub = api_->stream_hub] { hub->mark_ready(); });
}

void Shard::end_streams() {
  asio::post(ioc_, [hub = api_->stream_hub] { hub->end_streams(); });
}

void Shard::deliver_stream_events(std::shared_ptr<const api::FrameBatch> batch) {
  asio::post(ioc_, [hub = api_->stream_hub, batch = std::move(batch)] { hub->deliver(*batch); });
}

void Shard::request_stop() {
  asio::co_spawn(ioc_, drain_and_close(), asio::detached);
}

asio::awaitable<void> Shard::drain_and_close() {
  server_->stop();
  // Streams never end by themselves: end them, after what each has queued.
  api_->stream_hub->close_all();
  publisher_->stop();
  if (folder_) folder_->stop();
  if (session_pruner_) session_pruner_->stop();
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
  asio::steady_timer timer(ioc_);
  while (server_->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(kDrainPoll);
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (server_->connections() > 0) {
    spdlog::warn("shutdown grace period over with {} connections still open",
                 server_->connections());
  }
  redis_->stop();
  db_->close();
  if (replica_db_) replica_db_->close();
  ioc_.stop();
}

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace betsdb::app
