#include "app/metrics_text.hpp"

#include <algorithm>
#include <map>
#include <span>

#include "service/counters.hpp"
#include "util/metrics.hpp"

namespace betsdb::app {

namespace {

using metrics::Label;
using metrics::PrometheusWriter;

std::uint64_t load(const std::atomic<std::uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

void write_build_info(PrometheusWriter& w) {
  w.family("betsdb_build_info", "gauge", "Always 1; the version is a label.");
  const Label labels[] = {{"version", BETSDB_VERSION}};
  w.sample("betsdb_build_info", labels, std::int64_t{1});
}

void write_requests(PrometheusWriter& w, const ScrapeInput& in) {
  if (in.requests.empty()) return;
  // Every shard has the same routes (one router per shard, built alike), so
  // the first shard's slots name them all; the others are found by name.
  const auto& slots = in.requests.front()->slots();
  w.family("betsdb_http_requests_total", "counter",
           "Requests answered, by route template, method and status.");
  // A route registered twice is answered, and counted, by its first slot only.
  auto counted = [&](const auto& slot) {
    return &in.requests.front()->find(slot->route, slot->method) == slot.get();
  };
  for (const auto& slot : slots) {
    if (!counted(slot)) continue;
    const std::string_view method = http::method_name(slot->method);
    for (int status = http::RequestMetrics::kMinStatus; status <= http::RequestMetrics::kMaxStatus;
         ++status) {
      std::uint64_t total = 0;
      for (const auto* shard : in.requests)
        total += shard->find(slot->route, slot->method).requests(status);
      if (total == 0) continue;  // statuses never seen stay absent: a bounded, sparse set
      const std::string status_text = std::to_string(status);
      const Label labels[] = {{"route", slot->route}, {"method", method}, {"status", status_text}};
      w.sample("betsdb_http_requests_total", labels, total);
    }
    std::uint64_t other = 0;
    for (const auto* shard : in.requests)
      other += shard->find(slot->route, slot->method).other_status.value();
    if (other > 0) {
      const Label labels[] = {{"route", slot->route}, {"method", method}, {"status", "other"}};
      w.sample("betsdb_http_requests_total", labels, other);
    }
  }

  w.family("betsdb_http_request_duration_seconds", "histogram",
           "Time from a request's first byte to its answer written, by route template and method.");
  for (const auto& slot : slots) {
    if (!counted(slot)) continue;
    metrics::Histogram::Snapshot total;
    for (const auto* shard : in.requests)
      total += shard->find(slot->route, slot->method).latency.snapshot();
    if (total.count() == 0) continue;
    const Label labels[] = {{"route", slot->route}, {"method", http::method_name(slot->method)}};
    w.histogram("betsdb_http_request_duration_seconds", labels, total);
  }
}

// A Redis Cluster's own figures; nothing on a single Redis.
void write_redis_cluster(PrometheusWriter& w, const ScrapeInput& in) {
  bool cluster = false;
  std::uint64_t moved = 0, ask = 0, retries = 0, refreshes = 0;
  struct PerNode {
    std::int64_t connections = 0;
    std::uint64_t commands = 0, errors = 0, moved = 0, ask = 0;
    bool live = false;  // some shard has not retired it
  };
  std::map<std::string, PerNode> nodes;  // by host:port, sorted for a stable document
  for (const auto& s : in.shards) {
    cluster = cluster || !s.redis.nodes.empty();
    moved += s.redis.moved;
    ask += s.redis.ask;
    retries += s.redis.retries;
    refreshes += s.redis.slot_refreshes;
    for (const auto& n : s.redis.nodes) {
      PerNode& per = nodes[n.node];
      per.connections += n.connected ? 1 : 0;
      per.commands += n.commands_sent;
      per.errors += n.transport_errors;
      per.moved += n.moved;
      per.ask += n.ask;
      per.live = per.live || !n.retired;
    }
  }
  if (!cluster) return;
  // A node that every shard retired (it left the cluster) has no series: its
  // connections gauge would read 0, "down", for ever. While any shard still
  // knows it, its counters add every shard's, retired or not, so they never
  // go down as the shards retire it one by one.
  std::erase_if(nodes, [](const auto& entry) { return !entry.second.live; });
  w.family("betsdb_redis_cluster_redirects_total", "counter",
           "Redis Cluster redirects followed: moved (the slot has a new master) or ask (the slot "
           "is migrating).");
  const Label moved_label[] = {{"kind", "moved"}};
  const Label ask_label[] = {{"kind", "ask"}};
  w.sample("betsdb_redis_cluster_redirects_total", moved_label, moved);
  w.sample("betsdb_redis_cluster_redirects_total", ask_label, ask);
  w.family("betsdb_redis_cluster_retries_total", "counter",
           "Commands retried because their slot was unreachable (master down or unknown, "
           "TRYAGAIN, CLUSTERDOWN).");
  w.sample("betsdb_redis_cluster_retries_total", retries);
  w.family("betsdb_redis_cluster_slot_refreshes_total", "counter",
           "Slot maps loaded (CLUSTER SLOTS).");
  w.sample("betsdb_redis_cluster_slot_refreshes_total", refreshes);
  w.family("betsdb_redis_node_connections", "gauge",
           "Shards connected to each Redis Cluster node (each shard has one connection per node).");
  for (const auto& [name, per] : nodes) {
    const Label labels[] = {{"node", name}};
    w.sample("betsdb_redis_node_connections", labels, per.connections);
  }
  w.family("betsdb_redis_node_commands_total", "counter", "Commands sent to each node.");
  for (const auto& [name, per] : nodes) {
    const Label labels[] = {{"node", name}};
    w.sample("betsdb_redis_node_commands_total", labels, per.commands);
  }
  w.family("betsdb_redis_node_errors_total", "counter",
           "Failed connection attempts and lost connections, by node.");
  for (const auto& [name, per] : nodes) {
    const Label labels[] = {{"node", name}};
    w.sample("betsdb_redis_node_errors_total", labels, per.errors);
  }
  w.family("betsdb_redis_node_redirects_total", "counter",
           "Redirects answered by each node (the node no longer, or not yet, serves the slot).");
  for (const auto& [name, per] : nodes) {
    const Label m[] = {{"node", name}, {"kind", "moved"}};
    const Label a[] = {{"node", name}, {"kind", "ask"}};
    w.sample("betsdb_redis_node_redirects_total", m, per.moved);
    w.sample("betsdb_redis_node_redirects_total", a, per.ask);
  }
}

void write_shard_gauges(PrometheusWriter& w, const ScrapeInput& in) {
  std::int64_t in_flight = 0, connections = 0, streams = 0, redis_connected = 0;
  std::uint64_t redis_commands = 0, redis_errors = 0, redis_reconnects = 0;
  std::int64_t tracking = 0;
  std::uint64_t kept_reads = 0, pings = 0, invalidations = 0, tracking_reconnects = 0, leases = 0,
                writer_waits = 0;
  std::int64_t pg_max = 0, pg_idle = 0, pg_busy = 0, pg_waiting = 0;
  std::uint64_t pg_connects = 0, pg_connect_failures = 0, pg_timeouts = 0, pg_waits = 0,
                pg_discarded = 0, pg_rollbacks = 0;
  std::uint64_t batches[store::kBatchSizeBuckets] = {}, batch_asks = 0, retried_alone = 0;
  std::uint64_t stream_passes = 0, stream_held_passes = 0;
  for (const auto& s : in.shards) {
    // A stream's request was answered when its headers went out.
    in_flight += static_cast<std::int64_t>(s.requests_in_flight) -
                 static_cast<std::int64_t>(std::min(s.stream_clients, s.requests_in_flight));
    connections += static_cast<std::int64_t>(s.connections);
    streams += static_cast<std::int64_t>(s.stream_clients);
    stream_passes += s.stream_passes;
    stream_held_passes += s.stream_held_passes;
    redis_connected += s.redis_connected ? 1 : 0;
    redis_commands += s.redis.commands_sent;
    redis_errors += s.redis.commands_rejected + s.redis.transport_errors + s.redis.timeouts;
    redis_reconnects += s.redis.reconnects;
    tracking += s.redis.tracking ? 1 : 0;
    kept_reads += s.redis.tracking_kept_reads;
    pings += s.redis.tracking_pings;
    invalidations += s.redis.tracking_invalidations;
    tracking_reconnects += s.redis.tracking_reconnects;
    leases += s.redis.tracking_leases;
    writer_waits += s.redis.tracking_writer_waits;
    pg_max += static_cast<std::int64_t>(s.pg_max);
    pg_idle += static_cast<std::int64_t>(s.pg_idle);
    pg_busy += static_cast<std::int64_t>(s.pg_busy);
    pg_waiting += static_cast<std::int64_t>(s.pg_waiting);
    pg_connects += s.pg.connects;
    pg_connect_failures += s.pg.connect_failures;
    pg_timeouts += s.pg.acquire_timeouts;
    pg_waits += s.pg.waits;
    pg_discarded += s.pg.discarded;
    pg_rollbacks += s.pg.rollbacks;
    for (std::size_t b = 0; b < store::kBatchSizeBuckets; ++b)
      batches[b] += s.placement_batches.batches[b];
    batch_asks += s.placement_batches.asks;
    retried_alone += s.placement_batches.retried_alone;
  }

  w.family("betsdb_http_requests_in_flight", "gauge",
           "Requests begun and not yet answered (this scrape included).");
  w.sample("betsdb_http_requests_in_flight", in_flight);
  w.family("betsdb_http_connections", "gauge", "Open client connections.");
  w.sample("betsdb_http_connections", connections);
  w.family("betsdb_stream_clients", "gauge", "Open live stream (GET /v1/stream) connections.");
  w.sample("betsdb_stream_clients", streams);
  w.family("betsdb_stream_fan_out_passes_total", "counter",
           "Live stream fan-out passes (each writes every client the events since the last).");
  w.sample("betsdb_stream_fan_out_passes_total", stream_passes);
  w.family("betsdb_stream_held_passes_total", "counter",
           "Fan-out passes held back because the thread was busy with requests (their events "
           "went out together, up to BETSDB_STREAM_MAX_HOLD_MS later).");
  w.sample("betsdb_stream_held_passes_total", stream_held_passes);

  w.family("betsdb_redis_commands_total", "counter", "Redis commands sent.");
  w.sample("betsdb_redis_commands_total", redis_commands);
  w.family("betsdb_redis_errors_total", "counter",
           "Redis commands refused while disconnected, failed connections and lost "
           "connections, and connections reset because a reply was late.");
  w.sample("betsdb_redis_errors_total", redis_errors);
  w.family("betsdb_redis_reconnects_total", "counter", "Redis connections re-established.");
  w.sample("betsdb_redis_reconnects_total", redis_reconnects);
  w.family("betsdb_redis_connected", "gauge",
           "Shards whose Redis connection is up (each shard has one).");
  w.sample("betsdb_redis_connected", redis_connected);
  w.family("betsdb_redis_tracking_connected", "gauge",
           "Shards whose tracking connection is up: cache hits and revocation checks then "
           "skip their Redis command (BETSDB_REDIS_TRACKING).");
  w.sample("betsdb_redis_tracking_connected", tracking);
  w.family("betsdb_redis_tracking_kept_reads_total", "counter",
           "Cache hits and revocation checks answered from kept values, with no Redis command.");
  w.sample("betsdb_redis_tracking_kept_reads_total", kept_reads);
  w.family("betsdb_redis_tracking_pings_total", "counter",
           "PINGs on the tracking connections, which keep kept values usable (a few thousand a "
           "second per thread while readers use them, none when idle).");
  w.sample("betsdb_redis_tracking_pings_total", pings);
  w.family("betsdb_redis_tracking_invalidations_total", "counter",
           "Keys Redis reported changed on the tracking connections.");
  w.sample("betsdb_redis_tracking_invalidations_total", invalidations);
  w.family("betsdb_redis_tracking_reconnects_total", "counter",
           "Tracking connections re-established (each drops every kept value).");
  w.sample("betsdb_redis_tracking_reconnects_total", tracking_reconnects);
  w.family("betsdb_redis_tracking_leases_total", "counter",
           "Readers' leases granted: while one is in force on a counter, its writers wait "
           "2 ms before answering (a counter read at least twice is leased, and renewed "
           "while read).");
  w.sample("betsdb_redis_tracking_leases_total", leases);
  w.family("betsdb_redis_tracking_writer_waits_total", "counter",
           "Writes that found a reader's lease on a counter they bumped, and so waited 2 ms "
           "before answering.");
  w.sample("betsdb_redis_tracking_writer_waits_total", writer_waits);

  w.family("betsdb_pg_pool_connections", "gauge",
           "PostgreSQL connections open, idle or busy (handed to a request).");
  const Label idle[] = {{"state", "idle"}};
  const Label busy[] = {{"state", "busy"}};
  w.sample("betsdb_pg_pool_connections", idle, pg_idle);
  w.sample("betsdb_pg_pool_connections", busy, pg_busy);
  w.family("betsdb_pg_pool_max_connections", "gauge",
           "Configured PostgreSQL pool size, all shards.");
  w.sample("betsdb_pg_pool_max_connections", pg_max);
  w.family("betsdb_pg_pool_waiting", "gauge", "Requests waiting for a PostgreSQL connection now.");
  w.sample("betsdb_pg_pool_waiting", pg_waiting);
  w.family("betsdb_pg_pool_errors_total", "counter",
           "Failed PostgreSQL connection attempts plus waits for a connection that timed out.");
  w.sample("betsdb_pg_pool_errors_total", pg_connect_failures + pg_timeouts);
  w.family("betsdb_pg_pool_waits_total", "counter",
           "Requests that had to wait for a PostgreSQL connection (the pool was busy).");
  w.sample("betsdb_pg_pool_waits_total", pg_waits);
  w.family("betsdb_pg_pool_acquire_timeouts_total", "counter",
           "Waits for a PostgreSQL connection that gave up (the request answered 503).");
  w.sample("betsdb_pg_pool_acquire_timeouts_total", pg_timeouts);
  w.family("betsdb_pg_pool_connects_total", "counter", "PostgreSQL connections opened.");
  w.sample("betsdb_pg_pool_connects_total", pg_connects);
  w.family("betsdb_pg_pool_discarded_total", "counter",
           "PostgreSQL connections dropped (broken, closed by the server, pool closed).");
  w.sample("betsdb_pg_pool_discarded_total", pg_discarded);
  w.family("betsdb_pg_pool_rollbacks_total", "counter",
           "PostgreSQL connections returned inside a transaction and rolled back.");
  w.sample("betsdb_pg_pool_rollbacks_total", pg_rollbacks);

  w.family("betsdb_placement_batches_total", "counter",
           "Placing statements (group commit), by the placements (single bets, cart "
           "checkouts, accumulators or cash-outs) they carried.");
  static constexpr std::string_view kBatchBuckets[store::kBatchSizeBuckets] = {
      "1", "2-3", "4-7", "8-15", "16-31", "32+"};
  for (std::size_t b = 0; b < store::kBatchSizeBuckets; ++b) {
    const Label asks[] = {{"asks", kBatchBuckets[b]}};
    w.sample("betsdb_placement_batches_total", asks, batches[b]);
  }
  w.family("betsdb_placement_batch_asks_total", "counter",
           "Placements sent in placing statements (divided by the batches: the mean batch).");
  w.sample("betsdb_placement_batch_asks_total", batch_asks);
  w.family("betsdb_placement_retried_alone_total", "counter",
           "Placements placed again alone because their batch could not decide for each "
           "(a match's liability limit, a concurrent duplicate, a deadlock).");
  w.sample("betsdb_placement_retried_alone_total", retried_alone);

  w.family("betsdb_shards", "gauge", "Event-loop threads (shards).");
  w.sample("betsdb_shards", static_cast<std::int64_t>(in.shard_count));
  w.family("betsdb_metrics_stale_shards", "gauge",
           "Shards that did not answer this scrape in time: their pool, Redis and in-flight "
           "figures are from an earlier scrape, or missing.");
  w.sample("betsdb_metrics_stale_shards", static_cast<std::int64_t>(in.stale_shards));
}

// A counter summed over the shards; `of` picks it from one shard's set.
template <class Of>
std::uint64_t total(const ScrapeInput& in, Of of) {
  std::uint64_t sum = 0;
  for (const service::Counters* shard : in.counters) sum += load(of(*shard));
  return sum;
}

void write_cache(PrometheusWriter& w, const ScrapeInput& in) {
  w.family("betsdb_cache_events_total", "counter",
           "Read-cache events by namespace: hit, miss, error (answered from PostgreSQL), "
           "load (a database query for a read), invalidation (a generation bump).");
  for (auto area : service::kCacheAreas) {
    const std::string_view ns = service::to_string(area);
    auto of = [&in, area](auto member) {
      return total(in, [area, member](const service::Counters& c) -> const service::Counter& {
        return c.of(area).*member;
      });
    };
    using C = service::CacheCounters;
    const std::pair<std::string_view, std::uint64_t> events[] = {
        {"hit", of(&C::hits)},
        {"miss", of(&C::misses)},
        {"error", of(&C::errors)},
        {"load", of(&C::loads)},
        {"invalidation", of(&C::invalidations)}};
    for (const auto& [event, value] : events) {
      const Label labels[] = {{"namespace", ns}, {"event", event}};
      w.sample("betsdb_cache_events_total", labels, value);
    }
  }
}

// Only with a standby configured (BETSDB_DATABASE_REPLICA_URL) do these move.
void write_read_routes(PrometheusWriter& w, const ScrapeInput& in) {
  using service::RouteReason;
  w.family("betsdb_db_reads_total", "counter",
           "Cache misses loaded from the standby (caught_up) or from the primary, and why: "
           "no_position (the lists' last write position unknown), down, unknown (no recent "
           "replay sample), lagging, replaced (a new standby connection since the sample).");
  const RouteReason reasons[] = {RouteReason::caught_up,       RouteReason::no_position,
                                 RouteReason::replica_down,    RouteReason::replica_unknown,
                                 RouteReason::replica_lagging, RouteReason::replica_replaced};
  for (RouteReason reason : reasons) {
    const std::uint64_t value =
        total(in, [reason](const service::Counters& c) -> const service::Counter& {
          return c.reads_by_route[static_cast<std::size_t>(reason)];
        });
    const Label labels[] = {{"source", reason == RouteReason::caught_up ? "replica" : "primary"},
                            {"reason", service::to_string(reason)}};
    w.sample("betsdb_db_reads_total", labels, value);
  }
  w.family("betsdb_written_position_unknown_total", "counter",
           "Writes whose WAL position the primary did not give: their lists read the primary "
           "until the next write.");
  w.sample("betsdb_written_position_unknown_total",
           total(in, [](const service::Counters& c) -> const service::Counter& {
             return c.written_position_unknown;
           }));
}

using Outcome = std::pair<std::string_view, std::uint64_t>;

// One sample per outcome of a family labelled by "outcome".
void write_outcomes(PrometheusWriter& w, std::string_view family,
                    std::span<const Outcome> outcomes) {
  for (const auto& [outcome, value] : outcomes) {
    const Label labels[] = {{"outcome", outcome}};
    w.sample(family, labels, value);
  }
}

void write_service(PrometheusWriter& w, const ScrapeInput& in) {
  using S = service::ServiceCounters;
  auto c = [&in](auto member) {
    return total(in, [member](const service::Counters& shard) -> const service::Counter& {
      return shard.service.*member;
    });
  };
  w.family("betsdb_bet_lock_total", "counter",
           "The duplicate-bet lock: acquired, conflict (409 bet_in_progress), unavailable "
           "(Redis did not answer; the database guards alone).");
  const Outcome locks[] = {{"acquired", c(&S::bet_lock_acquired)},
                           {"conflict", c(&S::bet_lock_conflict)},
                           {"unavailable", c(&S::bet_lock_unavailable)}};
  write_outcomes(w, "betsdb_bet_lock_total", locks);
  w.family("betsdb_bet_rejections_total", "counter",
           "Bets, cart adds and checkouts refused by trading safety, by reason.");
  const Outcome rejections[] = {{"odds_changed", c(&S::rejected_odds_changed)},
                                {"match_suspended", c(&S::rejected_match_suspended)},
                                {"stake_above_max", c(&S::rejected_stake_above_max)},
                                {"liability_limit_exceeded", c(&S::rejected_liability)}};
  for (const auto& [reason, value] : rejections) {
    const Label labels[] = {{"reason", reason}};
    w.sample("betsdb_bet_rejections_total", labels, value);
  }
  w.family("betsdb_bets_placed_total", "counter", "Bets placed, singly or by a checkout.");
  w.sample("betsdb_bets_placed_total", c(&S::bets_placed));
  w.family("betsdb_checkouts_total", "counter",
           "Cart checkouts: success, failed (any error but the guard), in_progress (409).");
  const Outcome checkouts[] = {{"success", c(&S::checkouts_success)},
                               {"failed", c(&S::checkouts_failed)},
                               {"in_progress", c(&S::checkouts_in_progress)}};
  write_outcomes(w, "betsdb_checkouts_total", checkouts);
  w.family("betsdb_match_memory_total", "counter",
           "Matches that placement and add-to-cart took from the shard's memory (hit), read "
           "from PostgreSQL (miss), or found changed since remembered (stale).");
  const Outcome memory[] = {{"hit", c(&S::match_memory_hits)},
                            {"miss", c(&S::match_memory_misses)},
                            {"stale", c(&S::match_memory_stale)}};
  write_outcomes(w, "betsdb_match_memory_total", memory);
  w.family("betsdb_token_lookups_total", "counter",
           "Bearer tokens looked up in PostgreSQL because no shard had verified them yet.");
  w.sample("betsdb_token_lookups_total", c(&S::token_lookups));
  w.family("betsdb_settlements_total", "counter", "Matches settled.");
  w.sample("betsdb_settlements_total", c(&S::settlements));
  w.family("betsdb_cash_outs_total", "counter", "Bets cashed out.");
  w.sample("betsdb_cash_outs_total", c(&S::cash_outs));
}

}  // namespace

std::string render_metrics(const ScrapeInput& in) {
  std::string out;
  out.reserve(16 * 1024);
  PrometheusWriter w(out);
  write_build_info(w);
  write_requests(w, in);
  write_shard_gauges(w, in);
  write_redis_cluster(w, in);
  write_cache(w, in);
  write_read_routes(w, in);
  write_service(w, in);
  w.family("betsdb_log_lines_dropped_total", "counter",
           "Log lines dropped because stdout could not keep up.");
  w.sample("betsdb_log_lines_dropped_total", in.dropped_log_lines);
  return out;
}

void append_readiness(std::string& out, bool database, bool redis, bool streaming) {
  PrometheusWriter w(out);
  w.family("betsdb_ready", "gauge",
           "1 when GET /readyz answers 200 on the shard serving this scrape: PostgreSQL answered "
           "SELECT 1, Redis answered PING and the live stream is serving; else 0.");
  w.sample("betsdb_ready", std::int64_t{database && redis && streaming ? 1 : 0});
  w.family("betsdb_dependency_up", "gauge",
           "Whether the dependency answered the shard serving this scrape: postgres (SELECT 1), "
           "redis (PING).");
  const Label postgres[] = {{"dependency", "postgres"}};
  const Label redis_label[] = {{"dependency", "redis"}};
  w.sample("betsdb_dependency_up", postgres, std::int64_t{database ? 1 : 0});
  w.sample("betsdb_dependency_up", redis_label, std::int64_t{redis ? 1 : 0});
}

}  // namespace betsdb::app
