#include "store/redis/local_entries.hpp"

namespace betsdb::redis {

LocalEntries::LocalEntries(std::size_t max_bytes) : max_bytes_(max_bytes) {}

std::size_t LocalEntries::cost(const std::string& key, const Copy& copy) {
  // The strings' bytes and a rough share of the map's own node and bucket.
  constexpr std::size_t kOverhead = 96;
  return key.size() + copy.origin.size() + copy.value.size() + kOverhead;
}

const std::string* LocalEntries::find(const std::string& key, std::string_view origin,
                                      Clock::time_point now) {
  auto it = copies_.find(key);
  if (it == copies_.end()) return nullptr;
  if (it->second.expires_at <= now || it->second.origin != origin) {
    erase(it);
    return nullptr;
  }
  return &it->second.value;
}

void LocalEntries::remember(const std::string& key, std::string_view origin, std::string value,
                            Clock::time_point expires_at) {
  if (origin.empty()) return;  // a process that does not say who it is vouches for nothing
  if (auto it = copies_.find(key); it != copies_.end()) erase(it);
  Copy copy{std::string(origin), std::move(value), expires_at};
  const std::size_t added = cost(key, copy);
  if (added > max_bytes_ / 8) return;
  if (bytes_ + added > max_bytes_) {
    copies_.clear();
    bytes_ = 0;
  }
  bytes_ += added;
  copies_.emplace(key, std::move(copy));
}

void LocalEntries::erase(std::unordered_map<std::string, Copy>::iterator it) {
  bytes_ -= cost(it->first, it->second);
  copies_.erase(it);
}

}  // namespace betsdb::redis
