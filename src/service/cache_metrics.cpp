#include "service/cache_metrics.hpp"

namespace betsdb::service {

std::string_view to_string(CacheArea area) noexcept {
  switch (area) {
    case CacheArea::matches: return "matches:list";
    case CacheArea::bets: return "bets:list";
    case CacheArea::user_bets: return "bets_by_email";
    case CacheArea::summary: return "bets_summary";
  }
  return "unknown";
}

CacheCounters& cache_counters(CacheArea area) noexcept {
  static std::array<CacheCounters, kCacheAreas.size()> counters;
  return counters[static_cast<std::size_t>(area)];
}

}  // namespace betsdb::service
