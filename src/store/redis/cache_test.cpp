// The read cache's Redis side against a real Redis: the shared test server
// (BETSDB_TEST_REDIS_URL, keys under a prefix unique to this process) and, for
// paused writes, a private redis-server child.
#include "store/redis/cache.hpp"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <chrono>
#include <random>
#include <set>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"
#include "store/redis/slots.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::connected_client;
using testing::run_async;
using testing::sleep_for;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kTtl{60};
// How long a background store() may take to land on a loaded machine.
constexpr auto kStoreBound = 10s;

// What a read under `generations` from this client's server returned, for store().
CacheRead as_read(std::string generations, const Client& client) {
  return CacheRead{std::move(generations), std::nullopt, client.server_id()};
}

asio::awaitable<std::int64_t> pttl(Client& client, const std::string& key) {
  auto reply = co_await client.command("PTTL", key);
  EXPECT_TRUE(reply.ok()) << (reply.ok() ? "" : reply.error().detail);
  co_return reply.ok() ? reply->as_integer() : -3;
}

asio::awaitable<bool> exists(Client& client, const std::string& key) {
  auto reply = co_await client.command("EXISTS", key);
  EXPECT_TRUE(reply.ok()) << (reply.ok() ? "" : reply.error().detail);
  co_return reply.ok() && reply->as_integer() == 1;
}

// Polls until `key` exists (a background store() landed); false after kStoreBound.
asio::awaitable<bool> eventually_exists(Client& client, const std::string& key) {
  const auto deadline = Clock::now() + kStoreBound;
  while (Clock::now() < deadline) {
    if (co_await exists(client, key)) co_return true;
    co_await sleep_for(5ms);
  }
  co_return false;
}

// Keys matching `pattern` now, by a full SCAN.
asio::awaitable<std::set<std::string>> scan_all(Client& client, const std::string& pattern) {
  std::set<std::string> keys;
  std::string cursor = "0";
  do {
    auto page = co_await client.command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
    EXPECT_TRUE(page.ok() && page->elements().size() == 2);
    if (!page.ok() || page->elements().size() != 2) break;
    cursor = page->elements()[0].as_string();
    for (const auto& k : page->elements()[1].elements()) keys.insert(k.as_string());
  } while (cursor != "0");
  co_return keys;
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = testing::test_redis_config();
    ASSERT_TRUE(cfg.has_value());
    cfg_ = *cfg;
    prefix_ = testing::unique_key_prefix("cache");
  }
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }
  // A namespace of this test: entries under "{prefix}{name}", counters under
  // "{prefix}gen:{name}[:i]".
  CacheNamespace ns(std::string_view name, int counters = 1) const {
    CacheNamespace out{key(name), {}};
    for (int i = 0; i < counters; ++i) {
      out.generations.push_back(key("gen:") + std::string(name) + ":" + std::to_string(i));
    }
    return out;
  }

  // Bumps the namespace's counters, then stores `json` as the answer to
  // `query` under the generations a read then finds; returns them once
  // Redis holds the entry.
  static asio::awaitable<std::string> stored(Cache& cache, Client& client, const CacheNamespace& n,
                                             const std::string& query, std::string json) {
    std::vector<std::string> counters = n.generations;
    EXPECT_TRUE((co_await cache.bump(std::move(counters))).ok()) << "bump failed";
    auto miss = co_await cache.read(n, query);
    EXPECT_TRUE(miss.ok() && !miss->value) << "expected a miss";
    if (!miss.ok()) co_return std::string();
    cache.store(n, as_read(miss->generations, client), query, std::move(json));
    const std::string entry = n.prefix + ":" + miss->generations + ":" + query;
    EXPECT_TRUE(co_await eventually_exists(client, entry)) << entry << " was never stored";
    co_return miss->generations;
  }

  Config cfg_;
  std::string prefix_;
};

TEST_F(CacheTest, SetJsonThenGetJsonWithATtlBetweenTtlAndTtlPlusJitter) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    EXPECT_EQ(cache.ttl(), kTtl);

    auto missing = co_await cache.get_json(key("absent"));
    CO_ASSERT(missing.ok(), missing.error().detail);
    EXPECT_FALSE(missing->has_value());

    std::set<std::int64_t> seconds_seen;
    for (int i = 0; i < 40; ++i) {
      const std::string k = key("entry:") + std::to_string(i);
      const std::string json = R"({"items":[],"total":)" + std::to_string(i) + "}";
      const auto before = Clock::now();
      auto set = co_await cache.set_json(k, json, kTtl);
      CO_ASSERT(set.ok(), set.error().detail);
      const std::int64_t left = co_await pttl(*client, k);
      const auto elapsed = std::chrono::ceil<std::chrono::milliseconds>(Clock::now() - before);
      // Set to ttl + j seconds (j in 0..10), then at most `elapsed` passed
      // (+1 ms: Redis reads its clock in whole milliseconds at SET and at PTTL).
      EXPECT_LE(left, std::chrono::milliseconds(kTtl + kMaxTtlJitter).count()) << k;
      EXPECT_GE(left, std::chrono::milliseconds(kTtl).count() - elapsed.count() - 1) << k;
      seconds_seen.insert((left + 999) / 1000);
      auto got = co_await cache.get_json(k);
      CO_ASSERT(got.ok(), got.error().detail);
      CO_ASSERT(got->has_value(), k << " not found after set_json");
      EXPECT_EQ(**got, json);
    }
    // The jitter spreads expiries: 40 draws of 11 values are not all alike.
    EXPECT_GT(seconds_seen.size(), 1u);
    client->stop();
  });
}

TEST_F(CacheTest, InvalidateRemovesExactlyTheNamedKeys) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const std::vector<std::string> names{"a", "b", "c"};
    for (const auto& name : names) {
      auto set = co_await cache.set_json(key(name), "{}", kTtl);
      CO_ASSERT(set.ok(), set.error().detail);
    }
    // g++ 12 rejects braced lists inside co_await (redis_client.hpp).
    std::vector<std::string> nothing;
    auto none = co_await cache.invalidate(std::move(nothing));
    EXPECT_TRUE(none.ok());
    std::vector<std::string> some{key("a"), key("c"), key("never-set")};
    auto removed = co_await cache.invalidate(std::move(some));
    CO_ASSERT(removed.ok(), removed.error().detail);
    EXPECT_FALSE(co_await exists(*client, key("a")));
    EXPECT_TRUE(co_await exists(*client, key("b")));
    EXPECT_FALSE(co_await exists(*client, key("c")));
    client->stop();
  });
}

TEST_F(CacheTest, InvalidatePatternRemovesOnlyMatchingKeysAcrossScanBatches) {
  // Several times the SCAN batch (500), so the walk takes several round trips.
  constexpr int kMatching = 1300;
  constexpr int kOthers = 400;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        auto client = co_await connected_client(io, cfg_);
        Cache cache(client, kTtl);
        Batch fill;
        for (int i = 0; i < kMatching; ++i) {
          fill.add("SET", key("matches:list:4:team=") + std::to_string(i), "{}", "EX", "300");
        }
        for (int i = 0; i < kOthers; ++i) {
          // Near misses: another prefix, the prefix without its colon, another case.
          const std::string n = std::to_string(i);
          const std::string name = i % 3 == 0   ? "bets:list:4:limit=" + n
                                   : i % 3 == 1 ? "matches:listx:" + n
                                                : "MATCHES:list:" + n;
          fill.add("SET", key(name), "{}", "EX", "300");
        }
        auto filled = co_await client->batch(std::move(fill));
        CO_ASSERT(filled.ok(), filled.error().detail);

        const auto sent_before = client->stats().commands_sent;
        auto removed = co_await cache.invalidate_pattern(key("matches:list:*"));
        CO_ASSERT(removed.ok(), removed.error().detail);
        EXPECT_EQ(*removed, kMatching);
        // At least two SCAN pages (each with an UNLINK when it found keys).
        EXPECT_GE(client->stats().commands_sent - sent_before, 4u);

        EXPECT_EQ((co_await scan_all(*client, key("matches:list:*"))).size(), 0u);
        EXPECT_EQ((co_await scan_all(*client, key("*"))).size(), static_cast<std::size_t>(kOthers));

        auto again = co_await cache.invalidate_pattern(key("matches:list:*"));
        CO_ASSERT(again.ok(), again.error().detail);
        EXPECT_EQ(*again, 0);
        auto rest = co_await cache.invalidate_pattern(key("*"));
        CO_ASSERT(rest.ok(), rest.error().detail);
        EXPECT_EQ(*rest, kOthers);
        client->stop();
      },
      60s);
}

TEST_F(CacheTest, ReadSeesGenerationZeroThenTheStoredEntryThenMissesAfterABump) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const CacheNamespace bets = ns("bets:list");
    const std::string query = "sort=-created_at&limit=20&offset=0";

    // No counter yet: generation "0", and nothing is ever stored under it
    // (see CounterThatWentMissingNeverRepeatsAGeneration); the first store
    // creates the counter instead.
    auto cold = co_await cache.read(bets, query);
    CO_ASSERT(cold.ok(), cold.error().detail);
    EXPECT_EQ(cold->generations, "0");
    EXPECT_FALSE(cold->value.has_value());
    cache.store(bets, as_read(cold->generations, *client), query, R"({"total":0})");
    CO_ASSERT(co_await eventually_exists(*client, bets.generations[0]),
              "the first store made no counter");
    EXPECT_FALSE(co_await exists(*client, bets.prefix + ":0:" + query));
    EXPECT_EQ(co_await pttl(*client, bets.generations[0]), -1)
        << "counters are bookkeeping: no TTL";

    auto first = co_await cache.read(bets, query);
    CO_ASSERT(first.ok(), first.error().detail);
    const std::string g1 = first->generations;
    EXPECT_NE(g1, "0");
    EXPECT_FALSE(first->value.has_value());
    cache.store(bets, as_read(g1, *client), query, R"({"total":1})");
    const std::string old_entry = bets.prefix + ":" + g1 + ":" + query;
    CO_ASSERT(co_await eventually_exists(*client, old_entry), old_entry << " was never stored");
    const std::int64_t left = co_await pttl(*client, old_entry);
    EXPECT_GT(left, 0);
    EXPECT_LE(left, std::chrono::milliseconds(kTtl + kMaxTtlJitter).count());

    auto hit = co_await cache.read(bets, query);
    CO_ASSERT(hit.ok(), hit.error().detail);
    EXPECT_EQ(hit->generations, g1);
    CO_ASSERT(hit->value.has_value(), "stored entry not read");
    EXPECT_EQ(*hit->value, R"({"total":1})");

    auto bumped = co_await cache.bump(bets.generations);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    auto after = co_await cache.read(bets, query);
    CO_ASSERT(after.ok(), after.error().detail);
    EXPECT_EQ(after->generations, std::to_string(std::stoll(g1) + 1));
    EXPECT_FALSE(after->value.has_value()) << "an entry of the old generation was returned";

    // The cache-aside race: a reader that loaded before the bump stores its
    // (possibly stale) answer late, under the generation it read. It is not
    // stored at all, and in any case nobody would read it.
    cache.store(bets, as_read(g1, *client), query, R"({"total":"stale"})");
    cache.store(bets, as_read(after->generations, *client), query, R"({"total":2})");
    CO_ASSERT(
        co_await eventually_exists(*client, bets.prefix + ":" + after->generations + ":" + query),
        "new entry never stored");
    auto old = co_await cache.get_json(old_entry);
    CO_ASSERT(old.ok() && old->has_value(), "the old entry expires by its TTL, not before");
    EXPECT_EQ(**old, client->server_id() + R"(|{"total":1})")
        << "a store under an old generation overwrote its entry";
    auto fresh = co_await cache.read(bets, query);
    CO_ASSERT(fresh.ok(), fresh.error().detail);
    EXPECT_EQ(fresh->generations, after->generations);
    CO_ASSERT(fresh->value.has_value(), "entry of the current generation not read");
    EXPECT_EQ(*fresh->value, R"({"total":2})");

    // Other queries and namespaces are separate entries.
    auto other_query = co_await cache.read(bets, "sort=stake&limit=20&offset=0");
    CO_ASSERT(other_query.ok(), other_query.error().detail);
    EXPECT_FALSE(other_query->value.has_value());
    auto other_ns = co_await cache.read(ns("matches:list"), query);
    CO_ASSERT(other_ns.ok(), other_ns.error().detail);
    EXPECT_EQ(other_ns->generations, "0");
    EXPECT_FALSE(other_ns->value.has_value());
    client->stop();
  });
}

// Each shard's Cache remembers the generations it read last and reads with
// one MGET under them; another shard's (or instance's) writes move the
// counters without this Cache knowing. Its next read must still return the
// current entry and never the one under the generations it remembered.
TEST_F(CacheTest, ReadAfterAnotherCacheBumpedNeverReturnsTheRememberedGenerationsEntry) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache here(client, kTtl);
    Cache elsewhere(client, kTtl);
    const CacheNamespace users = ns("bets_by_email:ann@example.com", 2);
    const std::string query = "limit=20";

    std::vector<std::string> counters = users.generations;
    CO_ASSERT((co_await elsewhere.bump(std::move(counters))).ok(), "first bump failed");
    auto first = co_await here.read(users, query);
    CO_ASSERT(first.ok(), first.error().detail);
    const std::string g1 = first->generations;
    here.store(users, as_read(g1, *client), query, R"({"total":1})");
    CO_ASSERT(co_await eventually_exists(*client, users.prefix + ":" + g1 + ":" + query),
              "entry never stored");
    for (int i = 0; i < 3; ++i) {  // the steady state: answered by the MGET
      auto hit = co_await here.read(users, query);
      CO_ASSERT(hit.ok() && hit->value.has_value(), "stored entry not read");
      EXPECT_EQ(*hit->value, R"({"total":1})");
    }

    // Elsewhere: a write bumps the second counter, a reader stores the new answer.
    std::vector<std::string> second{users.generations[1]};
    CO_ASSERT((co_await elsewhere.bump(std::move(second))).ok(), "second bump failed");
    auto moved = co_await elsewhere.read(users, query);
    CO_ASSERT(moved.ok(), moved.error().detail);
    EXPECT_NE(moved->generations, g1);
    EXPECT_FALSE(moved->value.has_value());
    auto again = co_await here.read(users, query);
    CO_ASSERT(again.ok(), again.error().detail);
    EXPECT_EQ(again->generations, moved->generations);
    EXPECT_FALSE(again->value.has_value())
        << "the entry of the remembered generations was returned";

    // Two reads of this shard in flight at once, both guessing the old
    // generations: the first to learn of the new ones must not make the
    // other take the entry it read under the old ones for current (the other
    // compares with what it guessed, not with what is remembered meanwhile).
    std::vector<std::string> third{users.generations[0]};
    CO_ASSERT((co_await elsewhere.bump(std::move(third))).ok(), "third bump failed");
    auto current = co_await here.read(users, query);  // learns the third generations
    CO_ASSERT(current.ok(), current.error().detail);
    here.store(users, as_read(current->generations, *client), query, R"({"total":"old"})");
    CO_ASSERT(co_await eventually_exists(*client,
                                         users.prefix + ":" + current->generations + ":" + query),
              "entry never stored");
    std::vector<std::string> fourth{users.generations[1]};
    CO_ASSERT((co_await elsewhere.bump(std::move(fourth))).ok(), "fourth bump failed");
    std::optional<Result<CacheRead>> racing[2];
    for (auto& slot : racing) {
      asio::co_spawn(
          io,
          [&here, &users, &query, &slot]() -> asio::awaitable<void> {
            slot.emplace(co_await here.read(users, query));
          },
          asio::detached);
    }
    while (!racing[0] || !racing[1]) co_await sleep_for(1ms);
    for (const auto& r : racing) {
      CO_ASSERT(r->ok(), r->error().detail);
      EXPECT_NE((*r)->generations, current->generations);
      EXPECT_FALSE((*r)->value.has_value()) << "an entry of older generations was returned";
    }
    moved = std::move(*racing[1]);

    elsewhere.store(users, as_read(moved->generations, *client), query, R"({"total":2})");
    CO_ASSERT(
        co_await eventually_exists(*client, users.prefix + ":" + moved->generations + ":" + query),
        "new entry never stored");
    auto fresh = co_await here.read(users, query);
    CO_ASSERT(fresh.ok() && fresh->value.has_value(), "the current entry was not read");
    EXPECT_EQ(*fresh->value, R"({"total":2})");
    client->stop();
  });
}

// A hit of an entry this Cache read or stored before is answered from its
// own copy: Redis is asked only for the generations. Shown by changing the
// entry in Redis behind the cache's back (no real writer does that: entries
// are only ever added): the copy is what comes back, until a bump moves
// the generations on, when Redis's current entry is read again.
TEST_F(CacheTest, AHitOfAnEntryReadBeforeIsAnsweredFromTheShardsCopyWhileTheGenerationsHold) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const CacheNamespace lists = ns("matches:list");
    const std::string query = "status=open&limit=20";
    const std::string g1 = co_await stored(cache, *client, lists, query, R"({"n":1})");
    CO_ASSERT(!::testing::Test::HasFailure(), "no entry stored");
    const std::string entry = lists.prefix + ":" + g1 + ":" + query;

    auto rewritten = co_await client->command(
        "SET", entry, client->server_id() + R"(|{"n":"in redis"})", "KEEPTTL");
    CO_ASSERT(rewritten.ok(), "SET failed");
    for (int i = 0; i < 3; ++i) {
      auto hit = co_await cache.read(lists, query);
      CO_ASSERT(hit.ok() && hit->value, "expected a hit");
      EXPECT_EQ(hit->generations, g1);
      EXPECT_EQ(*hit->value, R"({"n":1})") << "the entry's bytes were fetched from Redis";
    }

    // Another Cache (a shard with no copy) reads Redis's entry, and keeps it.
    Cache other(client, kTtl);
    auto first = co_await other.read(lists, query);  // learns the generations
    CO_ASSERT(first.ok() && first->value, "expected a hit");
    EXPECT_EQ(*first->value, R"({"n":"in redis"})");
    rewritten = co_await client->command("SET", entry, client->server_id() + R"(|{"n":"again"})",
                                         "KEEPTTL");
    CO_ASSERT(rewritten.ok(), "SET failed");
    auto second = co_await other.read(lists, query);
    CO_ASSERT(second.ok() && second->value, "expected a hit");
    EXPECT_EQ(*second->value, R"({"n":"in redis"})") << "a copy read from Redis is not kept";

    // A write elsewhere moves the generations on: no copy is current any more.
    std::vector<std::string> counters = lists.generations;
    CO_ASSERT((co_await other.bump(std::move(counters))).ok(), "bump failed");
    auto after = co_await cache.read(lists, query);
    CO_ASSERT(after.ok(), after.error().detail);
    EXPECT_NE(after->generations, g1);
    EXPECT_FALSE(after->value.has_value()) << "a copy of the old generations was served";
    client->stop();
  });
}

// A copy taken from Redis's entry ends when that entry does: the TTL bounds
// how long an instance may serve an entry whose invalidation could not
// reach Redis, and copies keep the bound.
TEST_F(CacheTest, ACopyOfAnEntryReadFromRedisEndsWhenTheEntryExpires) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache writer(client, kTtl);
    const CacheNamespace lists = ns("bets:list");
    const std::string query = "limit=20";
    const std::string g1 = co_await stored(writer, *client, lists, query, R"({"n":1})");
    CO_ASSERT(!::testing::Test::HasFailure(), "no entry stored");
    const std::string entry = lists.prefix + ":" + g1 + ":" + query;
    // The entry has a moment left to live (as if stored long ago).
    auto shortened = co_await client->command("PEXPIRE", entry, "300");
    CO_ASSERT(shortened.ok() && shortened->as_integer() == 1, "PEXPIRE failed");

    Cache reader(client, kTtl);
    auto first = co_await reader.read(lists, query);
    CO_ASSERT(first.ok() && first->value, "expected a hit");
    const auto deadline = Clock::now() + kStoreBound;
    while (co_await exists(*client, entry)) {
      CO_ASSERT(Clock::now() < deadline, entry << " did not expire");
      co_await sleep_for(20ms);
    }
    auto after = co_await reader.read(lists, query);
    CO_ASSERT(after.ok(), after.error().detail);
    EXPECT_FALSE(after->value.has_value()) << "a copy outlived the entry it was taken from";
    client->stop();
  });
}

// A counter that is missing reads as "0" and may be lost again after a
// write, so "0" could name two different states: as nothing is stored in
// Redis under it, no copy is kept under it either.
TEST_F(CacheTest, NoCopyIsKeptUnderAMissingCounter) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const CacheNamespace lists = ns("bets:list");
    const std::string query = "limit=20";
    auto cold = co_await cache.read(lists, query);
    CO_ASSERT(cold.ok(), cold.error().detail);
    CO_ASSERT(cold->generations == "0", "the counter exists already");
    cache.store(lists, as_read("0", *client), query, R"({"before":"the write"})");
    CO_ASSERT(co_await eventually_exists(*client, lists.generations[0]),
              "the first store made no counter");
    // The write's bump is lost with the counter (a flush, a lost key): the
    // counter is missing again, and the generations read "0" again.
    auto deleted = co_await client->command("DEL", lists.generations[0]);
    CO_ASSERT(deleted.ok(), "DEL failed");
    auto again = co_await cache.read(lists, query);
    CO_ASSERT(again.ok(), again.error().detail);
    EXPECT_EQ(again->generations, "0");
    EXPECT_FALSE(again->value.has_value()) << "an answer kept under a missing counter was served";
    client->stop();
  });
}

TEST_F(CacheTest, ANamespaceWithTwoCountersMissesWhenEitherIsBumped) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    // Like a user's bet lists: one counter for all users, one for this user.
    const CacheNamespace user = ns("bets_by_email:ann@example.com", 2);
    const std::string query = "limit=20&offset=0";
    auto initial = co_await cache.read(user, query);
    CO_ASSERT(initial.ok(), initial.error().detail);
    EXPECT_EQ(initial->generations, "0.0");
    auto created = co_await cache.bump(user.generations);
    CO_ASSERT(created.ok(), created.error().detail);

    // The user's counter first, then the one for all users.
    const std::vector<std::string> counters{user.generations[1], user.generations[0]};
    std::string previous;
    for (const auto& counter : counters) {
      auto before = co_await cache.read(user, query);
      CO_ASSERT(before.ok(), before.error().detail);
      EXPECT_NE(before->generations, previous);
      cache.store(user, as_read(before->generations, *client), query,
                  "[\"" + before->generations + "\"]");
      CO_ASSERT(co_await eventually_exists(*client,
                                           user.prefix + ":" + before->generations + ":" + query),
                "entry never stored");
      auto hit = co_await cache.read(user, query);
      CO_ASSERT(hit.ok() && hit->value.has_value(), "stored entry not read");
      EXPECT_EQ(*hit->value, "[\"" + before->generations + "\"]");

      std::vector<std::string> one{counter};
      auto bumped = co_await cache.bump(std::move(one));
      CO_ASSERT(bumped.ok(), bumped.error().detail);
      auto after = co_await cache.read(user, query);
      CO_ASSERT(after.ok(), after.error().detail);
      EXPECT_NE(after->generations, before->generations);
      EXPECT_FALSE(after->value.has_value()) << "entry of generations " << before->generations
                                             << " returned after bumping " << counter;
      previous = before->generations;
    }
    client->stop();
  });
}

TEST_F(CacheTest, BumpIncrementsEveryCounterItIsGiven) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const std::vector<std::string> counters{key("gen:a"), key("gen:b"), key("gen:c")};
    std::vector<std::int64_t> first;
    for (int round = 0; round < 3; ++round) {
      auto bumped = co_await cache.bump(counters);
      CO_ASSERT(bumped.ok(), bumped.error().detail);
      for (std::size_t i = 0; i < counters.size(); ++i) {
        auto value = co_await cache.get_json(counters[i]);
        CO_ASSERT(value.ok() && value->has_value(), counters[i]);
        if (round == 0) first.push_back(std::stoll(**value));
        EXPECT_EQ(std::stoll(**value), first[i] + round) << counters[i];
      }
    }
    std::vector<std::string> nothing;
    auto none = co_await cache.bump(std::move(nothing));
    EXPECT_TRUE(none.ok());
    client->stop();
  });
}

// A settlement bumps a counter per bettor, more than one script takes: every
// one is bumped once, and each created one starts past the clock.
TEST_F(CacheTest, BumpOfThousandsOfCountersBumpsEachOnce) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    constexpr int kCounters = 2'500;
    std::vector<std::string> counters;
    for (int i = 0; i < kCounters; ++i) counters.push_back(key("gen:many:" + std::to_string(i)));
    const auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto created = co_await cache.bump(counters);
    CO_ASSERT(created.ok(), created.error().detail);
    std::vector<std::int64_t> first;
    for (const auto& counter : counters) {
      auto value = co_await cache.get_json(counter);
      CO_ASSERT(value.ok() && value->has_value(), counter + " was not created");
      first.push_back(std::stoll(**value));
      // Redis's clock against ours: allow a second of skew, no more.
      EXPECT_GT(first.back(), before - 1'000'000) << counter;
    }
    auto bumped = co_await cache.bump(counters);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    for (std::size_t i = 0; i < counters.size(); ++i) {
      auto value = co_await cache.get_json(counters[i]);
      CO_ASSERT(value.ok() && value->has_value(), counters[i]);
      EXPECT_EQ(std::stoll(**value), first[i] + 1) << counters[i];
    }
    client->stop();
  });
}

// A Redis that lost its data (restart, FLUSH, eviction) must not hand out a
// generation again: a reader that read it before the loss would then store
// its old rows under the current generation.
TEST_F(CacheTest, CounterThatWentMissingNeverRepeatsAGeneration) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const CacheNamespace summary = ns("bets_summary");
    std::set<std::string> handed_out{"0"};
    std::string last;
    for (int life = 0; life < 3; ++life) {
      for (int write = 0; write < 3; ++write) {
        auto bumped = co_await cache.bump(summary.generations);
        CO_ASSERT(bumped.ok(), bumped.error().detail);
        auto read = co_await cache.read(summary, "all");
        CO_ASSERT(read.ok(), read.error().detail);
        EXPECT_TRUE(handed_out.insert(read->generations).second)
            << "generation " << read->generations << " handed out twice";
        if (!last.empty()) {
          EXPECT_GT(std::stoll(read->generations), std::stoll(last));
        }
        last = read->generations;
      }
      // The slow reader: it read `last`, and stores after the loss and a write.
      std::vector<std::string> lost{summary.generations[0]};
      CO_ASSERT((co_await cache.invalidate(std::move(lost))).ok(), "could not drop the counter");
      auto after_loss = co_await cache.bump(summary.generations);
      CO_ASSERT(after_loss.ok(), after_loss.error().detail);
      cache.store(summary, as_read(last, *client), "all", R"({"total_bets":"old"})");
      auto read = co_await cache.read(summary, "all");
      CO_ASSERT(read.ok(), read.error().detail);
      EXPECT_NE(read->generations, last);
      // The store ran before this read (one connection, in order) and stored nothing current.
      auto again = co_await cache.read(summary, "all");
      CO_ASSERT(again.ok(), again.error().detail);
      EXPECT_FALSE(again->value.has_value())
          << "an answer read before the loss is current after it";
      EXPECT_TRUE(handed_out.insert(read->generations).second);
      last = read->generations;
    }
    client->stop();
  });
}

TEST_F(CacheTest, GenerationCreatesAMissingCounterPastItsOldValueAndThenReadsIt) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const std::string counter = ns("matches").generations[0];

    auto created = co_await cache.generation(counter);
    CO_ASSERT(created.ok(), created.error().detail);
    EXPECT_NE(*created, "0");
    auto stored = co_await cache.get_json(counter);
    CO_ASSERT(stored.ok() && stored->has_value(), "the counter was not created");
    EXPECT_EQ(**stored, *created);

    // Present: read as is, however small.
    CO_ASSERT((co_await client->command("SET", counter, "7")).ok(), "SET failed");
    auto present = co_await cache.generation(counter);
    CO_ASSERT(present.ok(), present.error().detail);
    EXPECT_EQ(*present, "7");

    // Lost after bumps: created again past every value it had.
    const std::vector<std::string> keys{counter};
    auto bumped = co_await cache.bump(keys);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    CO_ASSERT((co_await cache.invalidate(keys)).ok(), "could not drop the counter");
    auto recreated = co_await cache.generation(counter);
    CO_ASSERT(recreated.ok(), recreated.error().detail);
    EXPECT_GT(std::stoll(*recreated), std::stoll(*created));
    client->stop();
  });
}

TEST_F(CacheTest, ReadStillAnswersWhileWritesArePausedButBumpWaits) {
  // CLIENT PAUSE on the shared server would stall other test processes, so
  // this one has a Redis of its own.
  const std::uint16_t port = testing::free_port();
  testing::RedisProcess redis(port);
  ASSERT_TRUE(redis.start());
  Config cfg;
  cfg.port = port;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = Client::create(io.get_executor(), cfg);
    client->start();
    // The child needs a moment to listen.
    const auto deadline = Clock::now() + 10s;
    while (!client->connected() && Clock::now() < deadline) co_await sleep_for(10ms);
    CO_ASSERT(client->connected(), "private redis-server on :" << port << " not reachable");
    auto admin = Client::create(io.get_executor(), cfg);
    admin->start();
    CO_ASSERT((co_await admin->wait_connected(5s)).ok(), "second connection");

    Cache cache(client, kTtl);
    const CacheNamespace summary{"bets_summary", {"gen:bets_summary"}};
    CO_ASSERT((co_await cache.bump(summary.generations)).ok(), "no counter");
    auto warm = co_await cache.read(summary, "all");
    CO_ASSERT(warm.ok(), warm.error().detail);
    cache.store(summary, as_read(warm->generations, *client), "all", R"({"total_bets":3})");
    CO_ASSERT(co_await eventually_exists(*client, "bets_summary:" + warm->generations + ":all"),
              "entry never stored");

    auto paused = co_await admin->command("CLIENT", "PAUSE", "2000", "WRITE");
    CO_ASSERT(paused.ok() && paused->is_ok(), "CLIENT PAUSE failed");
    // The read script is read-only, so it runs although writes are paused.
    const auto start = Clock::now();
    auto during = co_await cache.read(summary, "all");
    CO_ASSERT(during.ok(), during.error().detail);
    EXPECT_LT(Clock::now() - start, 500ms) << "a read waited for the paused writes";
    CO_ASSERT(during->value.has_value(), "hit expected during the pause");
    EXPECT_EQ(*during->value, R"({"total_bets":3})");
    // A bump cannot land during the pause: within the command timeout it fails.
    auto bumped = co_await cache.bump(summary.generations);
    EXPECT_FALSE(bumped.ok()) << "INCR answered during CLIENT PAUSE WRITE";
    auto unpaused = co_await admin->command("CLIENT", "UNPAUSE");
    CO_ASSERT(unpaused.ok(), unpaused.error().detail);
    CO_ASSERT((co_await client->wait_connected(5s)).ok(), "no reconnect after the timeout");
    auto landed = co_await cache.bump(summary.generations);
    CO_ASSERT(landed.ok(), landed.error().detail);
    auto after = co_await cache.read(summary, "all");
    CO_ASSERT(after.ok(), after.error().detail);
    EXPECT_FALSE(after->value.has_value());
    EXPECT_NE(after->generations, warm->generations);
    admin->stop();
    client->stop();
  });
}

TEST(ShortQueryKey, LongQueriesAreHashedShortOnesKept) {
  EXPECT_EQ(short_query_key("limit=20"), "limit=20");
  const std::string long_query(500, 'x');
  const std::string key = short_query_key(long_query);
  EXPECT_LE(key.size(), 40u);
  EXPECT_EQ(key, short_query_key(long_query));
  EXPECT_NE(key, short_query_key(long_query + "y"));
}

TEST(TtlJitter, StaysWithinTtlAndTtlPlusTenSecondsAndVaries) {
  std::mt19937_64 random(42);
  const std::chrono::seconds base{60};
  std::set<std::int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto ttl = ttl_with_jitter(base, random);
    ASSERT_GE(ttl, base);
    ASSERT_LE(ttl, base + kMaxTtlJitter);
    seen.insert(ttl.count());
  }
  // Uniform over 11 whole seconds: 2000 draws hit every value.
  EXPECT_EQ(seen.size(), 11u);
}

// A bump's written position is read back with the generations, from a key
// in the counter's slot that the tracking connections do not hear of: only
// the counters are broadcast ("gen:" is the tracked prefix).
TEST_F(CacheTest, AWrittenPositionIsReadBackFromOutsideTheTrackedPrefix) {
  const std::string counter = "gen:bets_by_email:{ann@example.com}";
  const std::string position_key = written_position_key(counter);
  EXPECT_FALSE(position_key.starts_with(kGenerationKeyPrefix)) << position_key;
  EXPECT_EQ(key_slot(position_key), key_slot(counter));

  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    Cache cache(client, kTtl);
    const CacheNamespace n = ns("positions");
    constexpr std::uint64_t kPosition = 0x12345678abcdef;
    // A bump stamps the Redis process this cache last saw answer for the
    // slot: a first read learns it.
    CO_ASSERT((co_await cache.read(n, "q")).ok(), "first read failed");
    std::vector<std::string> counters = n.generations;
    CO_ASSERT((co_await cache.bump(std::move(counters), kPosition)).ok(), "bump failed");
    for (int i = 0; i < 2; ++i) {  // by script, then by MGET
      auto read = co_await cache.read(n, "q");
      CO_ASSERT(read.ok(), read.error().detail);
      EXPECT_EQ(read->written_position, std::optional<std::uint64_t>(kPosition)) << "read " << i;
    }
    auto stored = co_await client->command("GET", written_position_key(n.generations.front()));
    CO_ASSERT(stored.ok() && stored->is_string(), "no position record");
    EXPECT_TRUE(stored->as_string().ends_with("|0012345678abcdef")) << stored->as_string();
    client->stop();
  });
}

}  // namespace
}  // namespace betsdb::redis
