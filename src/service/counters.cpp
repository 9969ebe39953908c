#include "service/counters.hpp"

namespace betsdb::service {

std::string_view to_string(CacheArea area) noexcept {
  switch (area) {
    case CacheArea::matches:
      return "matches:list";
    case CacheArea::bets:
      return "bets:list";
    case CacheArea::user_bets:
      return "bets_by_email";
    case CacheArea::summary:
      return "bets_summary";
  }
  return "unknown";
}

}  // namespace betsdb::service
