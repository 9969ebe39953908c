// Counters of the read cache, per cached area, for /metrics.
//
// Thread-safety: process-wide relaxed atomics; they only count.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace betsdb::service {

enum class CacheArea { matches, bets, user_bets, summary };
inline constexpr std::array kCacheAreas{CacheArea::matches, CacheArea::bets, CacheArea::user_bets,
                                        CacheArea::summary};

// The namespace names of the contract: "matches:list", "bets:list", ...
std::string_view to_string(CacheArea area) noexcept;

struct CacheCounters {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> errors{0};         // Redis down, slow or odd: answered from PostgreSQL
  std::atomic<std::uint64_t> loads{0};          // database queries run for this area's reads
  std::atomic<std::uint64_t> invalidations{0};  // generation bumps
};

CacheCounters& cache_counters(CacheArea area) noexcept;

inline void count(std::atomic<std::uint64_t>& counter) noexcept {
  counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace betsdb::service
