// The read cache's Redis side: JSON values with a TTL plus jitter, grouped in
// namespaces that are invalidated by bumping generation counters.
//
// An entry of namespace N lives at "{N.prefix}:{g}:{query}", where g is the
// current value of N's generation counters ("3" or "2.7" with two). A write
// that changes N's answers INCRs a counter after its commit, so readers from
// then on look under a new g: old entries are never read again and expire by
// their TTL. A slow reader that loaded old rows before the write can only
// store them under the old g, which is why the cache-aside race cannot leave
// a stale entry behind (docs/api.md, "Caching").
//
// Counters live under "gen:..." without a TTL: bookkeeping, not cache.
//
// A read is one round trip. Usually it is one MGET of the counters and of the
// entry under the generations this shard saw last for the namespace: MGET is
// atomic, so if the counters still hold those generations the entry read is
// the current one. If they moved on (a write happened), the read is repeated
// by a script that reads the counters and then the entry they name; that is
// four times dearer for Redis than the MGET, so it only runs after writes.
// When this shard holds a copy of the entry (local_entries.hpp) from the
// process that answers for the slot, the MGET leaves the entry out and the
// copy is served if the generations and that process are still the copy's.
// With a tracking connection (invalidation_tracker.hpp), the counters a read
// found are kept while Redis reports no change to them, and a hit on a copy
// under kept counters asks Redis nothing (read_kept(), no suspension) while
// the tracker is fresh and the shard holds a lease on them (taken in the
// background for counters read more than once); bump() of a leased counter
// waits before it returns for as long as that freshness lasts, which is what
// makes such a hit see every write that answered before it began. On a
// Redis Cluster too: every node is tracked, and each counter is kept with the
// process it was read from, which the copy must come from as well.
// The script names entry keys it builds itself: on a Redis Cluster that is
// allowed because a namespace's prefix carries the same hash tag as its
// counters, so entries and counters share a slot (service/read_cache.cpp
// names them, docs/operations.md lists the layout).
//
// Entries are stored as "<origin>|<json>", the origin being the Redis server
// process whose counters the reader saw (commands.hpp, "Origin"), and are
// only served by that process. A Redis that restarts from its files, or a
// replica that a failover promotes, may have lost the last bumps of a
// counter (AOF everysec, asynchronous replication): a counter rolled back to
// a value it had before a write would otherwise make an entry stored before
// that write current again. Another process never serves those entries; the
// cost is one reload per entry after a restart or failover.
//
// Written positions (service/read_routing.hpp): next to each counter, at
// "lsn:<counter>" (the same hash tag, so the same slot; outside the tracked
// "gen:" prefix, so a bump broadcasts only its counters), a bump records
// "<origin>|<16 hex digits>": a WAL position at or past the commit of every
// write that bumped the counter, raised and never lowered by the bump's
// script, stamped with the Redis process the writer believed it was talking
// to. A read returns it with the generations (same MGET or script), but only
// when the process that answered is the one that stamped it: a record that a
// restart or failover may have rolled back (like a counter) is from another
// process, hence unknown, and unknown means "read the primary". A bump that
// does not know its position (no standby configured, the primary did not
// answer) deletes the record, with the same effect until the next write.
//
// Thread-safety: as redis::Commands (one shard's thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/redis/commands.hpp"
#include "store/redis/local_entries.hpp"

namespace betsdb::redis {

// Largest random addition to a cache TTL, so entries written together do not
// all expire (and reload) in the same second.
inline constexpr std::chrono::seconds kMaxTtlJitter{10};
// Where generation counters live (the service names them "gen:{matches}", ...).
inline constexpr std::string_view kGenerationKeyPrefix = "gen:";

struct CacheNamespace {
  std::string prefix;                    // "matches:list", "bets_by_email:ann@example.com"
  std::vector<std::string> generations;  // "gen:matches:list", ...
};

struct CacheRead {
  std::string generations;           // the counters' values, joined by '.'
  std::optional<std::string> value;  // the entry, on a hit
  std::string origin;                // the Redis process that answered
  // The highest written position of the counters; nullopt if one is unknown.
  std::optional<std::uint64_t> written_position = std::nullopt;
};

// The key of a counter's written position: "lsn:<counter>".
std::string written_position_key(const std::string& generation_key);

// Counter `key`'s value now, nullopt when it does not exist, as a GET sent
// now would read it: from the value the shard's tracker keeps, under the same
// rules as Cache::read_kept() (fresh group, lease in force; a lease is asked
// for a counter read twice), else by a GET, whose answer the tracker keeps.
// For a check made just before a write in another slot (cart_store.hpp).
boost::asio::awaitable<Result<std::optional<std::string>>> read_counter(
    std::shared_ptr<Commands> client, std::string key);

// base + a uniform whole number of seconds in [0, kMaxTtlJitter].
std::chrono::seconds ttl_with_jitter(std::chrono::seconds base, std::mt19937_64& random);

// The query part of a key: as is when short, else a digest, so keys stay small.
std::string short_query_key(std::string_view canonical_query);

// Present since Redis last lost its keys; holds the Redis time (ms) until
// which every writer waits as if every counter were leased. Absent (a
// FLUSHALL, a restart without its files), a writer cannot tell which
// counters were leased: it sets this a lease's length ahead, and writers
// wait until then, by when every reader has heard of the flush
// (invalidation_tracker.hpp, "Leases"). On a single Redis.
inline constexpr std::string_view kLostLeasesKey = "lease:lost-until";
// The same on a Redis Cluster, where a script may only touch its keys' slot
// and a node loses its slots' keys together: one per slot,
// "lease:lost-until:{<slot_tag(slot)>}".
std::string lost_leases_key(std::uint16_t slot);

class Cache final {
 public:
  Cache(std::shared_ptr<Commands> client, std::chrono::seconds ttl);

  // The plain helpers, for single keys (operators, tools, tests).
  boost::asio::awaitable<Result<std::optional<std::string>>> get_json(std::string key);
  boost::asio::awaitable<Status> set_json(std::string key, std::string json,
                                          std::chrono::seconds ttl);
  boost::asio::awaitable<Status> invalidate(std::vector<std::string> keys);
  // SCAN in batches + UNLINK: never on a request path (it walks the keyspace).
  boost::asio::awaitable<Result<std::int64_t>> invalidate_pattern(std::string pattern);

  // A generation counter's value; one that does not exist is created first,
  // from Redis's clock, as a store would create it (so a caller that
  // remembers something under it is not held back by a lost counter).
  boost::asio::awaitable<Result<std::string>> generation(std::string key);

  // A hit answered at once from kept counters and a copy, with no command
  // to Redis; nullopt when this shard cannot (then read()).
  // The entry's JSON, for the namespace of `prefix` and `counters`.
  std::optional<std::string> read_kept(std::string_view prefix,
                                       const std::vector<std::string>& counters,
                                       std::string_view query);
  // The namespaced read: the generations and, on a hit, the entry.
  boost::asio::awaitable<Result<CacheRead>> read(const CacheNamespace& ns, std::string query);
  // Stores an entry under the generations read before it was loaded (`read`,
  // whose origin it carries), and only if they are still current (a missing
  // counter is created instead, from the clock, and nothing is stored). Runs
  // in the background: the answer never waits for it, and a failure only
  // costs a later miss.
  void store(const CacheNamespace& ns, const CacheRead& read, const std::string& query,
             std::string json);
  // INCRs every counter: one script for all on a single Redis, one per slot
  // (sent together) on a cluster. With Config::writers_wait, if a reader's
  // lease is in force on one of them, it then waits
  // InvalidationTracker::kWritersWait, so that no process serves from
  // counters it kept once this returns. A counter that did not exist starts from
  // Redis's clock in microseconds, so a generation never repeats after Redis
  // lost its data.
  // With a written position, each counter's is raised to it (never lowered);
  // without, it is deleted (see above).
  boost::asio::awaitable<Status> bump(std::vector<std::string> generation_keys,
                                      std::optional<std::uint64_t> written_position = std::nullopt);

  std::chrono::seconds ttl() const noexcept { return ttl_; }
  const std::shared_ptr<Commands>& client() const noexcept { return client_; }

 private:
  // Both: whether a reader's lease was in force on some counter.
  boost::asio::awaitable<Result<bool>> bump_groups_together(
      std::vector<std::vector<std::string>> groups, std::optional<std::uint64_t> written_position);
  boost::asio::awaitable<Result<CacheRead>> read_by_script(const CacheNamespace& ns,
                                                           std::string query);
  boost::asio::awaitable<Result<bool>> bump_slot(std::vector<std::string> keys,
                                                 std::optional<std::uint64_t> written_position);
  // The process that last answered for `key`'s slot (one for a single Redis).
  std::string& origin_for(const std::string& key);
  // Keeps the entry a read found, for the next reads (local_entries.hpp).
  boost::asio::awaitable<void> take_copy(std::string entry_key, const CacheRead& read);

  using Clock = LocalEntries::Clock;

  std::shared_ptr<Commands> client_;
  std::chrono::seconds ttl_;
  std::mt19937_64 random_;
  // Per namespace prefix: the generations its last read found.
  std::unordered_map<std::string, std::string> seen_generations_;
  std::string origin_;                                      // a single Redis
  std::unordered_map<std::uint16_t, std::string> origins_;  // a cluster, by slot
  LocalEntries local_;
};

}  // namespace betsdb::redis
