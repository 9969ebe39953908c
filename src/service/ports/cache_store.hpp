// The read cache's storage (Redis): entries grouped in namespaces that are
// invalidated by bumping generation counters. The rules (what to cache, when
// to invalidate, what to do when Redis stalls) are service/read_cache.hpp's;
// store/redis/cache.hpp explains the keys and why the cache-aside race is
// harmless.
//
// Errors: service_unavailable when Redis cannot answer. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "service/ports/async.hpp"

namespace betsdb::service {

struct CacheNamespace {
  std::string prefix;                    // "matches:list", "bets_by_email:ann@example.com"
  std::vector<std::string> generations;  // the keys of its counters: "gen:matches:list", ...
};

struct CacheRead {
  std::string generations;           // the counters' values, joined by '.'
  std::optional<std::string> value;  // the entry, on a hit
  std::string origin;                // the Redis process that answered (store/redis/cache.hpp)
  // The namespace's written position (service/read_routing.hpp), read with
  // the generations; nullopt when unknown: missing, or recorded by another
  // Redis process than the one that answered (it may have been rolled back).
  std::optional<std::uint64_t> written_position = std::nullopt;
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;

  // The entry for `query` when this store can tell at once, with no I/O,
  // that it is current (store/redis/invalidation_tracker.hpp); nullopt
  // means "ask read()", never "a miss".
  virtual std::optional<std::string> read_kept(const CacheNamespace& /*ns*/,
                                               const std::string& /*query*/) {
    return std::nullopt;
  }
  // The namespace's generations and, on a hit, the entry for `query`.
  virtual Async<CacheRead> read(const CacheNamespace& ns, std::string query) = 0;
  // Stores an entry under the generations `read` saw before it was loaded,
  // only if they are still current, for the process that answered `read`
  // only; in the background (a failure costs a later miss).
  virtual void store(const CacheNamespace& ns, const CacheRead& read, const std::string& query,
                     std::string json) = 0;
  // INCRs every counter and, with it (atomically per Redis Cluster slot),
  // raises its written position to `written_position` (never lowers it), or
  // forgets it when the writer does not know its position (nullopt).
  virtual Async<void> bump(std::vector<std::string> generation_keys,
                           std::optional<std::uint64_t> written_position) = 0;
  // A counter's value; one that does not exist (Redis lost it, or no write
  // or store has made it yet) is created, past every value it had before.
  virtual Async<std::string> generation(std::string key) = 0;
  // Whether Redis is connected now: a write waits for a stalled Redis to
  // take its invalidation, but not for one that is unreachable.
  virtual bool connected() const = 0;
  // Whether the Redis that holds `key` is connected now (on a cluster, its
  // slot's master): one master down must not hold back the invalidations
  // of the counters on the others.
  virtual bool reachable(const std::string& key) const = 0;
};

}  // namespace betsdb::service
