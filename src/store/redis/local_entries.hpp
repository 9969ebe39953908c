// A shard's own copies of read-cache entries (store/redis/cache.hpp), so that
// a hit can leave the entry's bytes in Redis: the read still asks Redis for
// the generations (one MGET, as before), and a copy is served only when they
// are exactly those the copy was read or stored under, from the same Redis
// process. That is the condition under which Redis's entry would be served,
// so read-your-writes is the same; what a hit no longer pays is the entry's
// bytes through Redis, the kernel and the reply parser (a 4-6 KB match list
// cost betsdb and Redis about a fifth of a hit).
//
// A copy never outlives the entry it mirrors: it expires when Redis's entry
// does, or earlier. The generations decide whether an entry is current, but
// the TTL bounds how long another instance may serve an entry whose
// invalidation could not reach Redis (docs/api.md, "When the INCR cannot
// land"), and the copies keep that bound. When the copies would take more
// than `max_bytes`, all are dropped: the next reads fetch from Redis again,
// as they would without copies.
//
// Thread-safety: none; one per Cache, on its shard's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace betsdb::redis {

class LocalEntries final {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LocalEntries(std::size_t max_bytes);

  // The copy of the entry at `key` taken from Redis process `origin`; null
  // when there is none, it expired, or it came from another process. The
  // pointer is valid until the next call that changes the copies.
  const std::string* find(const std::string& key, std::string_view origin, Clock::time_point now);
  // Keeps (or replaces) the copy of `key` until `expires_at`. A value larger
  // than an eighth of the budget is not kept: it would push the others out.
  void remember(const std::string& key, std::string_view origin, std::string value,
                Clock::time_point expires_at);

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return copies_.size(); }

 private:
  struct Copy {
    std::string origin;
    std::string value;
    Clock::time_point expires_at;
  };
  static std::size_t cost(const std::string& key, const Copy& copy);
  void erase(std::unordered_map<std::string, Copy>::iterator it);

  std::size_t max_bytes_;
  std::unordered_map<std::string, Copy> copies_;
  std::size_t bytes_ = 0;
};

}  // namespace betsdb::redis
