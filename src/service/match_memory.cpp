#include "service/match_memory.hpp"

namespace betsdb::service {

void MatchMemory::remember(domain::Match match, std::string generation) {
  const std::int64_t id = match.id;
  entries_.put(id, Entry{std::move(match), std::move(generation)});
}

}  // namespace betsdb::service
