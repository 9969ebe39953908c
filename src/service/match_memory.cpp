#include "service/match_memory.hpp"

namespace betsdb::service {

namespace {
// A few MB at most; past it the memory starts over (a miss costs one query).
constexpr std::size_t kMaxRememberedMatches = 20'000;
}  // namespace

const MatchMemory::Entry* MatchMemory::find(std::int64_t match_id) const {
  auto it = entries_.find(match_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void MatchMemory::remember(domain::Match match, std::string generation) {
  if (entries_.size() >= kMaxRememberedMatches && !entries_.contains(match.id)) entries_.clear();
  const std::int64_t id = match.id;
  entries_.insert_or_assign(id, Entry{std::move(match), std::move(generation)});
}

}  // namespace betsdb::service
