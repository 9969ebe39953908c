// Counters of the betting use cases, for /metrics: the bet lock's outcomes,
// bets placed, checkouts by outcome, matches settled.
//
// Thread-safety: process-wide relaxed atomics (see count() in
// cache_metrics.hpp); every shard counts into the same ones.
#pragma once

#include <atomic>
#include <cstdint>

#include "service/cache_metrics.hpp"

namespace betsdb::service {

struct ServiceCounters {
  // The duplicate-bet lock (POST /v1/bets): taken, held by another request
  // (409 bet_in_progress), or Redis could not answer (placed without it).
  std::atomic<std::uint64_t> bet_lock_acquired{0};
  std::atomic<std::uint64_t> bet_lock_conflict{0};
  std::atomic<std::uint64_t> bet_lock_unavailable{0};
  // Bets inserted, one by one or by a checkout.
  std::atomic<std::uint64_t> bets_placed{0};
  // Checkouts that placed their bets, that failed for any reason but the
  // guard (cart_empty, item errors, funds, an outage), and that met another
  // checkout of the same cart (409 checkout_in_progress).
  std::atomic<std::uint64_t> checkouts_success{0};
  std::atomic<std::uint64_t> checkouts_failed{0};
  std::atomic<std::uint64_t> checkouts_in_progress{0};
  // The shard's memory of matches (service/match_memory.hpp), as placement and
  // add-to-cart use it: answered without a query (hit), read from PostgreSQL
  // (miss), or remembered under a generation that had moved on (stale; then
  // read again).
  std::atomic<std::uint64_t> match_memory_hits{0};
  std::atomic<std::uint64_t> match_memory_misses{0};
  std::atomic<std::uint64_t> match_memory_stale{0};
  // Bearer tokens looked up in PostgreSQL because no shard knew them yet
  // (api/auth.hpp); found or not.
  std::atomic<std::uint64_t> token_lookups{0};
  // Matches settled (a repeated identical result is not counted again).
  std::atomic<std::uint64_t> settlements{0};
};

ServiceCounters& service_counters() noexcept;

inline void count(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace betsdb::service
