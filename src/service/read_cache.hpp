// The read cache as the use cases see it: read-through with single-flight,
// a short deadline on Redis, and invalidation after writes.
//
// Reads: cached() answers from Redis on a hit. On a miss, concurrent callers
// of the same entry (in this process) share one database load, whose result
// is stored under the generations read BEFORE the load (see
// store/redis/cache.hpp for why that makes the cache-aside race harmless).
// If Redis is down, slow (kCacheReadTimeout) or the namespace is "dirty" (see
// below), the answer comes straight from PostgreSQL.
//
// Writes: after their commit, writes bump the generations of exactly the
// namespaces they affect and only then answer, so a read that starts after
// the answer never sees an older entry. If Redis is connected but stalls,
// the bump is retried for up to kInvalidationBound. Past that bound, or at
// once if Redis is unreachable, the write still answers success (it is
// committed), the namespaces are marked dirty in this process, which then
// reads them from PostgreSQL, and a background task keeps retrying the bump
// until it lands. Other instances may serve an entry older than the write
// until then, or until its TTL ends (docs/api.md, "Caching").
//
// Thread-safety: a ReadCache belongs to one shard; the single-flight table
// and the dirty set are process-wide and synchronised.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "service/cache_metrics.hpp"
#include "store/redis/cache.hpp"

namespace betsdb::service {

struct Context;

// A cache read slower than this is abandoned for the database: a hit must be
// faster than the query it saves, and a stalled Redis must not stall reads.
inline constexpr std::chrono::milliseconds kCacheReadTimeout{100};
// How long a write waits for a stalled Redis to take its invalidation.
inline constexpr std::chrono::milliseconds kInvalidationBound{5000};

class ReadCache final {
 public:
  ReadCache(std::shared_ptr<redis::Client> client, std::chrono::seconds ttl);

  redis::Cache& cache() noexcept { return cache_; }

  // The namespaces of the contract and their generation counters. A user's
  // lists depend on two counters: the user's own and one for all users, which
  // settlement bumps instead of one per bettor.
  static redis::CacheNamespace matches();
  static redis::CacheNamespace bets();
  static redis::CacheNamespace user_bets(const std::string& email);
  static redis::CacheNamespace summary();

  // Emails never change, so each shard remembers the ones it has seen.
  const std::string* email_of(std::int64_t user_id) const;
  void remember_email(std::int64_t user_id, std::string email);

 private:
  redis::Cache cache_;
  std::unordered_map<std::int64_t, std::string> emails_;
};

using Loader = std::function<boost::asio::awaitable<Result<std::string>>()>;

// The JSON answer of `query` in namespace `ns`, through the cache.
boost::asio::awaitable<Result<std::string>> cached(Context& ctx, CacheArea area,
                                                   redis::CacheNamespace ns, std::string query,
                                                   Loader load);

// Invalidations, to be awaited after the write's commit and before its answer.
// `user_email` is the bettor's (store::Placement has it); empty when unknown,
// which invalidates every user's lists instead.
boost::asio::awaitable<void> after_bets_placed(Context& ctx, std::int64_t user_id,
                                               std::string user_email);
boost::asio::awaitable<void> after_match_changed(Context& ctx);

// For data derived from matches outside the cache (service/match_memory.hpp):
// the key of the matches' generation counter, its value in Redis now ("0"
// when it has none: never trust data tagged "0", Redis may have lost the
// counter), and whether this process has a matches invalidation overdue (then
// no generation read from Redis reflects its own latest writes).
const std::string& matches_generation_key();
boost::asio::awaitable<Result<std::string>> matches_generation(Context& ctx);
bool matches_invalidation_overdue();
boost::asio::awaitable<void> after_settlement(Context& ctx);

// The user's email, from this shard's memory or the database.
boost::asio::awaitable<Result<std::string>> user_email(Context& ctx, std::int64_t user_id);

}  // namespace betsdb::service
