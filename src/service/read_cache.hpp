// The read cache as the use cases see it: read-through with single-flight,
// a short deadline on Redis, and invalidation after writes.
//
// Reads: cached() answers from Redis on a hit, or at once from what the
// shard kept (CacheStore::read_kept, store/redis/invalidation_tracker.hpp). On a miss, concurrent
// callers of the same entry (in this process) share one database load, whose result is stored under
// the generations read BEFORE the load (see store/redis/cache.hpp for why that makes the
// cache-aside race harmless). If Redis is down, slow (kCacheReadTimeout) or the namespace is
// "dirty" (see below), the answer comes straight from PostgreSQL.
//
// Writes: after their commit, writes bump the generations of exactly the
// namespaces they affect and only then answer, so a read that starts after
// the answer never sees an older entry. If Redis is connected but stalls,
// the bump is retried for up to kInvalidationBound. Past that bound, or at
// once if Redis is unreachable, the write still answers success (it is
// committed), the namespaces are marked dirty in this process, which then
// reads them from PostgreSQL, and a background task keeps retrying the bump
// until it lands: one per shard for all its overdue counters (Owed), so a
// long outage under many writes costs one bump every kBackgroundBumpDelay,
// not one per write. Other instances may serve an entry older than the write
// until then, or until its TTL ends (docs/api.md, "Caching").
//
// Standby: with ctx.replica set, a write reads the primary's WAL position
// after its commit and the bump records it with the generations; a miss is
// loaded from the standby only when service/read_routing.hpp says it has
// replayed that far, else (and for every read that bypasses the cache) from
// the primary.
//
// Thread-safety: a ReadCache belongs to one shard; the single-flight table
// and the dirty set are process-wide and synchronised (docs/architecture.md,
// "What the shards share").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "service/counters.hpp"
#include "service/ports/bet_store.hpp"
#include "service/ports/cache_store.hpp"
#include "service/ports/match_store.hpp"
#include "service/read_routing.hpp"
#include "util/result.hpp"

namespace betsdb::service {

struct Context;

// A cache read slower than this is abandoned for the database: a hit must be
// faster than the query it saves, and a stalled Redis must not stall reads.
inline constexpr std::chrono::milliseconds kCacheReadTimeout{100};
// How long a write waits for a stalled Redis to take its invalidation.
inline constexpr std::chrono::milliseconds kInvalidationBound{5000};

class ReadCache final {
 public:
  // Without background retries (tools that exit before they could land),
  // an invalidation that cannot reach Redis is only counted.
  explicit ReadCache(std::shared_ptr<CacheStore> store, bool retry_in_background = true);

  CacheStore& store() noexcept { return *store_; }
  bool retries_in_background() const noexcept { return retry_in_background_; }
  // Invalidations that did not land at once (retried in the background, or
  // given up by a tool).
  std::uint64_t overdue() const noexcept { return overdue_; }
  void count_overdue() noexcept { ++overdue_; }

  // The namespaces of the contract and their generation counters (one each;
  // a user's lists have the user's own, which settlement bumps per bettor).
  static CacheNamespace matches();
  static CacheNamespace bets();
  static CacheNamespace user_bets(const std::string& email);
  static CacheNamespace summary();

  // Emails never change, so each shard remembers the ones its reads looked up.
  const std::string* email_of(std::int64_t user_id) const;
  void remember_email(std::int64_t user_id, std::string email);

  // The counters whose bump is overdue on this shard, and what their bump
  // records: the greatest written position of the writes that owe them, or
  // none once one of them had none (read_cache.cpp, "Overdue bumps").
  struct Owed {
    // Each counter, with the `round` of the last write that owed it: a bump
    // sent before that write may have run before its commit, so it does not
    // pay that write's debt.
    std::unordered_map<std::string, std::uint64_t> keys;
    std::uint64_t round = 0;
    std::optional<std::uint64_t> position;
    bool position_unknown = false;
    bool draining = false;  // the background task runs
  };
  Owed& owed() noexcept { return owed_; }

 private:
  std::shared_ptr<CacheStore> store_;
  bool retry_in_background_;
  std::uint64_t overdue_ = 0;
  std::unordered_map<std::int64_t, std::string> emails_;
  Owed owed_;
};

// Loads an answer from the primary or the standby, as cached() decides.
using Loader = std::function<boost::asio::awaitable<Result<std::string>>(ReadSource)>;

// The stores a Loader reads from.
MatchStore& match_reader(Context& ctx, ReadSource source);
BetStore& bet_reader(Context& ctx, ReadSource source);

// A rendering of a value as the JSON the cache keeps (the api layer's views).
template <class T>
using Render = std::function<std::string(const T&)>;

// The JSON answer of `query` in namespace `ns`, through the cache.
boost::asio::awaitable<Result<std::string>> cached(Context& ctx, CacheArea area, CacheNamespace ns,
                                                   std::string query, Loader load);

// Invalidations, to be awaited after the write's commit and before its answer.
// `user_email` is the bettor's (domain::Placement has it); when empty, it is
// looked up, and if that fails every user's lists are invalidated instead.
boost::asio::awaitable<void> after_bets_placed(Context& ctx, std::int64_t user_id,
                                               std::string user_email);
boost::asio::awaitable<void> after_match_changed(Context& ctx);
// `bettors`: the emails of the users with bets on the match.
boost::asio::awaitable<void> after_settlement(Context& ctx,
                                              const std::vector<std::string>& bettors);
// The lists of these users only (bettors learnt of after their change).
boost::asio::awaitable<void> after_bettors_changed(Context& ctx,
                                                   const std::vector<std::string>& emails);

// For data derived from matches outside the cache (service/match_memory.hpp):
// the key of the matches' generation counter, its value in Redis now
// (created when Redis has none, so data read after it is at least as new;
// "0" without a cache: never trust data tagged "0"), and whether this process
// has a matches invalidation overdue (then no generation read from Redis
// reflects its own latest writes).
const std::string& matches_generation_key();
boost::asio::awaitable<Result<std::string>> matches_generation(Context& ctx);
bool matches_invalidation_overdue();

// The user's email, from this shard's memory or the database.
boost::asio::awaitable<Result<std::string>> user_email(Context& ctx, std::int64_t user_id);

}  // namespace betsdb::service
