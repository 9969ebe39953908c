// Counters of the use cases and the read cache, for /metrics.
//
// One set per shard, held by its Context and bumped only by its thread; the
// scrape reads every shard's set from its own thread, hence relaxed atomics
// (no shard ever writes another's cache line, as with http::RequestMetrics).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "service/read_routing.hpp"

namespace betsdb::service {

using Counter = std::atomic<std::uint64_t>;

inline void count(Counter& counter, std::uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

struct ServiceCounters {
  // The duplicate-bet lock (POST /v1/bets): taken, held by another request
  // (409 bet_in_progress), or Redis could not answer (placed without it).
  Counter bet_lock_acquired{0};
  Counter bet_lock_conflict{0};
  Counter bet_lock_unavailable{0};
  // Bets inserted, one by one or by a checkout.
  Counter bets_placed{0};
  // Checkouts that placed their bets, that failed for any reason but the
  // guard (cart_empty, item errors, funds, an outage), and that met another
  // checkout of the same cart (409 checkout_in_progress).
  Counter checkouts_success{0};
  Counter checkouts_failed{0};
  Counter checkouts_in_progress{0};
  // The shard's memory of matches (service/match_memory.hpp), as placement and
  // add-to-cart use it: answered without a query (hit), read from PostgreSQL
  // (miss), or remembered under a generation that had moved on, or priced at
  // odds that had changed (stale; then read again).
  Counter match_memory_hits{0};
  Counter match_memory_misses{0};
  Counter match_memory_stale{0};
  // Bearer tokens looked up in PostgreSQL because no shard knew them yet
  // (api/auth.hpp); found or not.
  Counter token_lookups{0};
  // Matches settled (a repeated identical result is not counted again).
  Counter settlements{0};
  // Bets cashed out (POST /v1/bets/{id}/cash-out).
  Counter cash_outs{0};
  // Bets, cart adds and changes, and checkouts refused by trading safety,
  // by reason (service::count_rejection).
  Counter rejected_odds_changed{0};
  Counter rejected_match_suspended{0};
  Counter rejected_stake_above_max{0};
  Counter rejected_liability{0};
};

enum class CacheArea { matches, bets, user_bets, summary };
inline constexpr std::array kCacheAreas{CacheArea::matches, CacheArea::bets, CacheArea::user_bets,
                                        CacheArea::summary};

// The namespace names of the contract: "matches:list", "bets:list", ...
std::string_view to_string(CacheArea area) noexcept;

struct CacheCounters {
  Counter hits{0};
  Counter misses{0};
  Counter errors{0};         // Redis down, slow or odd: answered from PostgreSQL
  Counter loads{0};          // database queries run for this area's reads
  Counter invalidations{0};  // generation bumps
};

struct Counters {
  ServiceCounters service;
  std::array<CacheCounters, kCacheAreas.size()> cache;
  // Cache misses (and reads past the cache) by where they were loaded from
  // and why (service/read_routing.hpp); counted only with a standby configured.
  std::array<Counter, kRouteReasons> reads_by_route{};
  // Writes whose WAL position could not be read: their namespaces' written
  // positions were forgotten (reads go to the primary until the next write).
  Counter written_position_unknown{0};

  Counter& of(RouteReason reason) noexcept {
    return reads_by_route[static_cast<std::size_t>(reason)];
  }

  CacheCounters& of(CacheArea area) noexcept { return cache[static_cast<std::size_t>(area)]; }
  const CacheCounters& of(CacheArea area) const noexcept {
    return cache[static_cast<std::size_t>(area)];
  }
};

}  // namespace betsdb::service
