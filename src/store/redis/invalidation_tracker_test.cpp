// The tracking connection against a real Redis: the shared test server
// (keys under a prefix unique to this process, which is also the prefix
// tracked) and, to kill or flush, a private redis-server child.
#include "store/redis/invalidation_tracker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/redis/access_store.hpp"
#include "store/redis/cache.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::connected_client;
using testing::run_async;
using testing::sleep_for;
using testing::wait_fresh;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kTrackedTtl{60};
// For the tests of keeping alone: values whose writers always wait.
constexpr std::uint64_t kNoLease = InvalidationTracker::kNoLeaseNeeded;

// Polls until the client's tracker is live; false after `bound`.
asio::awaitable<bool> wait_tracking(Client& client, Clock::duration bound = 5s) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    if (client.tracker() != nullptr && client.tracker()->live()) co_return true;
    co_await sleep_for(5ms);
  }
  co_return false;
}

asio::awaitable<std::string> get_value(Client& client, const std::string& key) {
  auto reply = co_await client.command("GET", key);
  EXPECT_TRUE(reply.ok()) << (reply.ok() ? "" : reply.error().detail);
  co_return reply.ok() ? reply->as_string() : std::string();
}

asio::awaitable<void> set_value(Client& client, const std::string& key, const std::string& value) {
  auto reply = co_await client.command("SET", key, value);
  EXPECT_TRUE(reply.ok() && reply->is_ok()) << "SET " << key;
}

// Reads `key` as every kept-value reader does, a mark taken before the GET
// is sent, and offers what it found to keep(). False (with a failure added)
// when there is no mark or the read fails.
asio::awaitable<bool> read_and_keep(Client& reader, InvalidationTracker& tracker,
                                    const std::string& key) {
  auto mark = tracker.mark();
  if (!mark.has_value()) {
    ADD_FAILURE() << "no mark while live";
    co_return false;
  }
  std::vector<std::string> get_key{"GET", key};
  auto served = co_await reader.command_served(get_key);
  if (!served.ok()) {
    ADD_FAILURE() << served.error().detail;
    co_return false;
  }
  tracker.keep(key, served->reply.as_string(), *mark, served->origin, kNoLease);
  co_return true;
}

// Runs `task` to its end on `other`, a second io_context, blocking the
// calling thread meanwhile: a writer's command then answers while the
// reader's loop reads nothing, so the writer's invalidation is still unread
// in the tracking socket when the reader goes on (the case fence() is for).
template <class T>
T run_elsewhere(asio::io_context& other, asio::awaitable<T> task) {
  std::optional<T> result;
  bool finished = false;
  asio::co_spawn(other, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result.emplace(std::move(value));
    finished = true;
  });
  other.restart();
  while (!finished) other.run_one();
  return std::move(*result);
}

class InvalidationTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = testing::test_redis_config();
    ASSERT_TRUE(cfg.has_value());
    plain_ = *cfg;
    plain_.writers_wait = true;  // as every process on a Redis where some track
    prefix_ = testing::unique_key_prefix("tracking");
    tracked_ = plain_;
    tracked_.tracked_prefixes = {prefix_};
  }
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  Config plain_;    // a writer's: no tracking
  Config tracked_;  // a reader's: tracks this test's keys
  std::string prefix_;
};

TEST_F(InvalidationTrackerTest, KeepsAValueUntilAnotherClientChangesIt) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = co_await connected_client(io, plain_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string k = key("counter");
    co_await set_value(*writer, k, "1");

    CO_ASSERT(co_await read_and_keep(*reader, tracker, k), "the read failed");
    CO_ASSERT(tracker.kept(k) != nullptr, "a value read with no change since was not kept");
    EXPECT_EQ(*tracker.kept(k), "1");
    EXPECT_TRUE(co_await tracker.fence());
    EXPECT_NE(tracker.kept(k), nullptr) << "a fence alone dropped a value nobody changed";

    co_await set_value(*writer, k, "2");
    // The SET answered before the fence's PING went: its invalidation is read first.
    EXPECT_TRUE(co_await tracker.fence());
    EXPECT_EQ(tracker.kept(k), nullptr) << "still kept after another client changed it";
    EXPECT_GE(tracker.stats().invalidations, 1u);
    // Keys outside the tracked prefix are neither reported nor kept apart.
    co_await set_value(*writer, "betsdb:untracked:" + k, "x");
    const auto invalidations = tracker.stats().invalidations;
    EXPECT_TRUE(co_await tracker.fence());
    EXPECT_EQ(tracker.stats().invalidations, invalidations);
    reader->stop();
    writer->stop();
  });
}

TEST_F(InvalidationTrackerTest, DoesNotKeepWhatWasInvalidatedWhileItsReadWasOnItsWay) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = co_await connected_client(io, plain_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string k = key("counter");
    co_await set_value(*writer, k, "1");

    // The read's mark, then a change whose invalidation is read before the
    // read's reply would be offered: what the read found must not be kept.
    auto mark = tracker.mark();
    CO_ASSERT(mark.has_value(), "no mark while live");
    const std::string seen = co_await get_value(*reader, k);
    co_await set_value(*writer, k, "2");
    EXPECT_TRUE(co_await tracker.fence());
    tracker.keep(k, seen, *mark, reader->server_id(), kNoLease);
    EXPECT_EQ(tracker.kept(k), nullptr) << "kept a value invalidated after its read was sent";

    // Nor a value from another Redis process than the one tracked.
    auto fresh = tracker.mark();
    CO_ASSERT(fresh.has_value(), "no mark while live");
    tracker.keep(k, "2", *fresh, "another-process", kNoLease);
    EXPECT_EQ(tracker.kept(k), nullptr);
    tracker.keep(k, "2", *fresh, reader->server_id(), kNoLease);
    EXPECT_NE(tracker.kept(k), nullptr);
    reader->stop();
    writer->stop();
  });
}

// A shard keeps up to 2 x kMaxKept values, each naming the Redis process it
// was read from. The id is stored once: copied into every value it was 48
// bytes of heap and 16 of map node each, a sixth of the peak heap's kept
// revocation marks under bench/run's place.
TEST_F(InvalidationTrackerTest, KeptValuesFromOneProcessShareOneCopyOfItsId) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    auto mark = tracker.mark();
    CO_ASSERT(mark.has_value(), "no mark while live");
    const std::string origin = reader->server_id();
    const std::string another_copy = origin;
    tracker.keep(key("a"), "1", *mark, origin, kNoLease);
    tracker.keep(key("b"), "2", *mark, another_copy, kNoLease);
    CO_ASSERT(tracker.kept(key("a")) != nullptr, "a value read with no change since was not kept");
    CO_ASSERT(tracker.kept(key("b")) != nullptr, "a value read with no change since was not kept");
    EXPECT_EQ(tracker.kept_origin(key("a")), origin);
    EXPECT_EQ(tracker.kept_origin(key("a")).data(), tracker.kept_origin(key("b")).data())
        << "each kept value holds its own copy of its origin";
    reader->stop();
  });
}

TEST_F(InvalidationTrackerTest, AReadIsCheckedAgainstEveryInvalidationSinceItWasSent) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = co_await connected_client(io, plain_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string origin = reader->server_id();
    const std::string k = key("counter");
    // Many invalidations of other keys after k's: the tracker remembers
    // invalidated keys in bounded maps that roll over, and a read sent
    // before k's invalidation must be refused however many came after.
    auto sent_before = tracker.mark();
    CO_ASSERT(sent_before.has_value(), "no mark while live");
    co_await set_value(*writer, k, "2");
    constexpr int kOthers = 12'000;
    for (int i = 0; i < kOthers; ++i)
      co_await set_value(*writer, key("other:" + std::to_string(i)), "x");
    EXPECT_TRUE(co_await tracker.fence());
    EXPECT_GE(tracker.stats().invalidations, static_cast<std::uint64_t>(kOthers));
    tracker.keep(k, "1", *sent_before, origin, kNoLease);
    EXPECT_EQ(tracker.kept(k), nullptr) << "kept a value invalidated after its read was sent";
    // A read sent after all that is kept.
    auto sent_after = tracker.mark();
    CO_ASSERT(sent_after.has_value(), "no mark while live");
    tracker.keep(k, "2", *sent_after, origin, kNoLease);
    EXPECT_NE(tracker.kept(k), nullptr);
    reader->stop();
    writer->stop();
  });
}

TEST_F(InvalidationTrackerTest, ReadersWaitingTogetherShareOnePing) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    constexpr int kReaders = 50;
    const auto pings_before = tracker.stats().pings;
    testing::Latch done(io.get_executor(), kReaders);
    int fenced = 0;
    for (int i = 0; i < kReaders; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            if (co_await tracker.fence()) ++fenced;
            done.count_down();
          },
          asio::detached);
    }
    co_await done.wait();
    EXPECT_EQ(fenced, kReaders);
    // The first reader's PING, and one more for all who came while it was out.
    EXPECT_LE(tracker.stats().pings - pings_before, 2u);
    reader->stop();
  });
}

// catch_up(): a loop too busy to reach the tracking connection in time (a
// burst of ready requests ahead of the PONG) still fences on the PONGs Redis
// sent meanwhile, and applies the invalidations that came before them. The
// test blocks its own loop and never yields while it checks, so freshness
// can come only from catch_up()'s own reads and PING, never from a handler.
TEST_F(InvalidationTrackerTest, ABusyLoopCatchesUpWithoutItsTurnAndDropsWhatChangedMeanwhile) {
  asio::io_context writer_io;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = run_elsewhere(writer_io, connected_client(writer_io, plain_));
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string k = key("busy");
    co_await set_value(*reader, k, "1");
    CO_ASSERT(co_await read_and_keep(*reader, tracker, k), "the read failed");
    CO_ASSERT(co_await wait_fresh(tracker), "the tracker never became fresh");
    CO_ASSERT(tracker.kept(k) != nullptr, "nothing kept to be dropped");

    // From here on the loop is blocked: another client changes the key, and
    // its invalidation and the PONGs of the PINGs in flight wait unread.
    auto change = [&]() -> asio::awaitable<bool> {
      auto reply = co_await writer->command("SET", k, "2");
      co_return reply.ok() && reply->is_ok();
    };
    CO_ASSERT(run_elsewhere(writer_io, change()), "the change failed");
    std::this_thread::sleep_for(InvalidationTracker::kWritersWait + 1ms);
    EXPECT_FALSE(tracker.fresh_without_asking())
        << "fresh although no PONG was read for longer than kWritersWait";
    EXPECT_NE(tracker.kept(k), nullptr) << "the invalidation was read without catch_up()";
    const auto pings_before = tracker.stats().pings;
    // Well within kIdleAfter: past it, the node is no longer wanted and
    // catch_up() leaves it to the PINGs' timer. fresh() asks, as readers do.
    const auto deadline = Clock::now() + InvalidationTracker::kIdleAfter / 2;
    bool fresh = false;
    while (!fresh && Clock::now() < deadline) {
      tracker.catch_up();
      fresh = tracker.fresh();
      if (!fresh) std::this_thread::sleep_for(InvalidationTracker::kCatchUpEvery);
    }
    EXPECT_TRUE(fresh) << "catch_up() never fenced on a PONG while the loop was blocked";
    EXPECT_GT(tracker.stats().pings, pings_before) << "catch_up() sent no PING of its own";
    EXPECT_EQ(tracker.kept(k), nullptr) << "fresh, yet still keeping a value changed before";
    auto cleaned = co_await reader->command("DEL", k);
    EXPECT_TRUE(cleaned.ok());
    reader->stop();
    writer->stop();
  });
}

std::string generation_json(const std::string& generations) {
  return "{\"generation\":\"" + generations + "\"}";
}

// What a read-after-bump test checks, for round `round`'s read `attempt`
// after the bump made `current` the counter's value.
using ReadCheck =
    std::function<asio::awaitable<void>(int round, int attempt, const std::string& current)>;

// The rounds of the read-after-bump tests: each round a writer on
// `writer_io` bumps `counters` and reads the first back; then `check` reads
// at once (attempt 0: the bump's invalidation may be unread), and once the
// tracker is fresh, until one read was answered from what it kept. A test
// where most reads went to Redis would prove nothing about kept values.
asio::awaitable<void> read_after_bumps(asio::io_context& writer_io, Client& writer_client,
                                       Cache& writer, std::vector<std::string> counters,
                                       InvalidationTracker& tracker, ReadCheck check) {
  constexpr int kRounds = 200;
  for (int round = 0; round < kRounds; ++round) {
    auto bump_and_get = [&]() -> asio::awaitable<std::string> {
      std::vector<std::string> bumped_counters = counters;
      auto bumped = co_await writer.bump(std::move(bumped_counters));
      EXPECT_TRUE(bumped.ok()) << (bumped.ok() ? "" : bumped.error().detail);
      co_return co_await get_value(writer_client, counters.front());
    };
    const std::string current = run_elsewhere(writer_io, bump_and_get());
    co_await check(round, 0, current);
    const auto kept_before = tracker.stats().kept_reads;
    for (int attempt = 1; attempt <= 5 && tracker.stats().kept_reads == kept_before; ++attempt) {
      CO_ASSERT(co_await wait_fresh(tracker), "the tracker never became fresh");
      co_await check(round, attempt, current);
    }
  }
  EXPECT_GT(tracker.stats().kept_reads, static_cast<std::uint64_t>(kRounds / 2));
}

// The property the tracker exists for (docs/architecture.md, "Kept
// counters"): a cache read that begins after a bump answered never serves
// what was current before it, although a kept hit asks Redis nothing. The
// writer runs on a second io_context while the reader's is blocked, so the
// bump's invalidation is still unread when the reader goes on; it is the
// writer's wait (InvalidationTracker::wait_for_readers) that lets the
// reader's freshness lapse meanwhile.
TEST_F(InvalidationTrackerTest, ACacheReadAfterABumpAnsweredNeverServesTheEntryBeforeIt) {
  asio::io_context writer_io;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader_client = co_await connected_client(io, tracked_);
    auto writer_client = run_elsewhere(writer_io, connected_client(writer_io, plain_));
    CO_ASSERT(co_await wait_tracking(*reader_client), "the tracker never went live");
    InvalidationTracker& tracker = *reader_client->tracker();
    Cache reader(reader_client, kTrackedTtl);
    Cache writer(writer_client, kTrackedTtl);
    const CacheNamespace ns{key("entries"), {key("gen:entries")}};
    const std::string query = "q";
    // As service::cached(): a kept hit, else a read (storing on a miss).
    auto read = [&](int round, int attempt) -> asio::awaitable<std::optional<std::string>> {
      std::optional<std::string> kept = reader.read_kept(ns.prefix, ns.generations, query);
      if (kept) co_return kept;
      auto got = co_await reader.read(ns, query);
      EXPECT_TRUE(got.ok()) << "round " << round << ", read " << attempt;
      if (!got.ok()) co_return std::nullopt;
      if (got->value) co_return got->value;
      reader.store(ns, *got, query, generation_json(got->generations));
      co_return generation_json(got->generations);
    };
    ReadCheck check = [&](int round, int attempt,
                          const std::string& current) -> asio::awaitable<void> {
      auto got = co_await read(round, attempt);
      EXPECT_EQ(got, generation_json(current)) << "round " << round << ", read " << attempt;
    };
    std::vector<std::string> counters = ns.generations;
    co_await read_after_bumps(writer_io, *writer_client, writer, std::move(counters), tracker,
                              std::move(check));
    reader_client->stop();
    writer_client->stop();
  });
}

TEST_F(InvalidationTrackerTest, ARevocationCheckAfterTheMarkAnsweredSeesIt) {
  asio::io_context writer_io;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    Config reader_config = tracked_;
    reader_config.tracked_prefixes = {std::string(kRevocationKeyPrefix)};
    auto reader = co_await connected_client(io, reader_config);
    auto writer = run_elsewhere(writer_io, connected_client(writer_io, plain_));
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string account = prefix_ + "user";
    constexpr int kRounds = 100;
    for (int round = 0; round < kRounds; ++round) {
      const Digest token = sha256(prefix_ + std::to_string(round));
      // The first check keeps the absence; the next ones, once fresh, use it.
      for (int check = 0; check < 3; ++check) {
        if (check > 0) CO_ASSERT(co_await wait_fresh(tracker), "the tracker never became fresh");
        auto revoked = co_await is_marked_revoked(*reader, account, token);
        CO_ASSERT(revoked.ok(), revoked.error().detail);
        EXPECT_FALSE(revoked->revoked) << "round " << round;
      }
      auto revoke = [&]() -> asio::awaitable<bool> {
        auto marked = co_await mark_revoked(*writer, account, token, 60s);
        co_return marked.ok();
      };
      CO_ASSERT(run_elsewhere(writer_io, revoke()), "the revocation mark failed");
      auto revoked = co_await is_marked_revoked(*reader, account, token);
      CO_ASSERT(revoked.ok(), revoked.error().detail);
      EXPECT_TRUE(revoked->revoked) << "round " << round << ": a revoked token still passed";
    }
    // The absence was kept and used, with no command to Redis.
    EXPECT_GE(tracker.stats().kept_reads, static_cast<std::uint64_t>(kRounds));
    reader->stop();
    writer->stop();
  });
}

// Polls until `tracker` holds a lease on `key`; false after `bound`.
asio::awaitable<bool> wait_leased(InvalidationTracker& tracker, const std::string& key,
                                  Clock::duration bound = 5s) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    if (tracker.lease_term(key) != 0) co_return true;
    co_await sleep_for(1ms);
  }
  co_return false;
}

// read_counter() (a cart add's check on a Redis Cluster) answers from the
// kept value under the same rules as a cache hit: after a bump answered, it
// never returns the value before it.
TEST_F(InvalidationTrackerTest, ACounterReadAfterABumpAnsweredNeverReturnsTheValueBeforeIt) {
  asio::io_context writer_io;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader_client = co_await connected_client(io, tracked_);
    auto writer_client = run_elsewhere(writer_io, connected_client(writer_io, plain_));
    CO_ASSERT(co_await wait_tracking(*reader_client), "the tracker never went live");
    InvalidationTracker& tracker = *reader_client->tracker();
    Cache writer(writer_client, kTrackedTtl);
    const std::string counter = key("gen:precondition");
    auto missing = co_await read_counter(reader_client, counter);
    CO_ASSERT(missing.ok(), missing.error().detail);
    EXPECT_FALSE(missing->has_value()) << "a counter nobody wrote read as " << **missing;

    ReadCheck check = [&](int round, int attempt,
                          const std::string& current) -> asio::awaitable<void> {
      auto value = co_await read_counter(reader_client, counter);
      EXPECT_TRUE(value.ok() && *value == current)
          << "round " << round << ", read " << attempt << ": "
          << (!value.ok() ? value.error().detail : value->value_or("(none)"));
    };
    std::vector<std::string> counters{counter};
    co_await read_after_bumps(writer_io, *writer_client, writer, std::move(counters), tracker,
                              std::move(check));

    // A key outside the tracked prefixes is never kept: Redis would not
    // report its changes.
    const std::string untracked = testing::unique_key_prefix("untracked") + "gen:x";
    co_await set_value(*reader_client, untracked, "1");
    const auto kept_before = tracker.stats().kept_reads;
    for (int i = 0; i < 3; ++i) {
      auto value = co_await read_counter(reader_client, untracked);
      EXPECT_TRUE(value.ok() && *value == std::optional<std::string>("1"));
    }
    EXPECT_EQ(tracker.stats().kept_reads, kept_before) << "an untracked key was answered as kept";
    auto cleaned = co_await reader_client->command("DEL", untracked);
    EXPECT_TRUE(cleaned.ok());
    reader_client->stop();
    writer_client->stop();
  });
}

TEST_F(InvalidationTrackerTest, ABumpWaitsForReadersOnlyWhileOneHoldsALease) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader_client = co_await connected_client(io, tracked_);
    // The writer tracks too, so that its tracker counts its waits.
    auto writer_client = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader_client), "the reader's tracker never went live");
    CO_ASSERT(co_await wait_tracking(*writer_client), "the writer's tracker never went live");
    Cache reader(reader_client, kTrackedTtl);
    Cache writer(writer_client, kTrackedTtl);
    InvalidationTracker& writes = *writer_client->tracker();
    const CacheNamespace ns{key("entries"), {key("gen:leased")}};
    const std::string& counter = ns.generations.front();
    co_await set_value(*writer_client, counter, "100");
    // Redis has not lost its keys lately (a test before may have flushed it).
    co_await set_value(*writer_client, std::string(kLostLeasesKey), "0");
    auto bump = [&]() -> asio::awaitable<void> {
      std::vector<std::string> counters = ns.generations;
      auto bumped = co_await writer.bump(std::move(counters));
      EXPECT_TRUE(bumped.ok()) << (bumped.ok() ? "" : bumped.error().detail);
    };

    // Nobody has read the counter: the writer answers at once.
    co_await bump();
    EXPECT_EQ(writes.stats().writer_waits, 0u) << "waited with no reader's lease in force";

    // One read costs no lease; a second read of the same counter takes one.
    auto read = co_await reader.read(ns, "q");
    CO_ASSERT(read.ok(), read.error().detail);
    EXPECT_EQ(reader_client->tracker()->stats().leases, 0u) << "a lease for a counter read once";
    read = co_await reader.read(ns, "q");
    CO_ASSERT(read.ok(), read.error().detail);
    CO_ASSERT(co_await wait_leased(*reader_client->tracker(), counter), "no lease was taken");
    // The lease lives outside the tracked prefixes (renewing it invalidates
    // nothing) and expires when it ends, so a counter no longer read leaves
    // no key behind.
    auto ttl = co_await writer_client->command("PTTL", "lease:" + counter);
    CO_ASSERT(ttl.ok() && ttl->is_integer(), "PTTL failed");
    EXPECT_GT(ttl->as_integer(), 0) << "the lease key is missing or never expires";
    EXPECT_LE(ttl->as_integer(), InvalidationTracker::kLeaseLength.count());

    // Now a reader may keep the counter: every bump waits, and only answers
    // after the writers' wait.
    for (int i = 1; i <= 3; ++i) {
      const auto started = Clock::now();
      co_await bump();
      EXPECT_EQ(writes.stats().writer_waits, static_cast<std::uint64_t>(i));
      EXPECT_GE(Clock::now() - started, InvalidationTracker::kWritersWait);
    }
    reader_client->stop();
    writer_client->stop();
  });
}

// A bump's script that fails partway has already bumped the counters before
// the one it failed on, and a reader may keep one of those under its lease:
// the failed bump waits as a successful one would before its caller answers.
TEST_F(InvalidationTrackerTest, ABumpThatFailsPartwayStillWaitsForReaders) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader_client = co_await connected_client(io, tracked_);
    auto writer_client = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader_client), "the reader's tracker never went live");
    CO_ASSERT(co_await wait_tracking(*writer_client), "the writer's tracker never went live");
    Cache reader(reader_client, kTrackedTtl);
    Cache writer(writer_client, kTrackedTtl);
    InvalidationTracker& writes = *writer_client->tracker();
    const CacheNamespace ns{key("entries"), {key("gen:leased-then-broken")}};
    const std::string& counter = ns.generations.front();
    // INCR fails on this one, after the script has bumped `counter`.
    const std::string broken = key("gen:not-a-number");
    co_await set_value(*writer_client, counter, "100");
    co_await set_value(*writer_client, broken, "not a number");
    co_await set_value(*writer_client, std::string(kLostLeasesKey), "0");
    for (int i = 0; i < 2; ++i) {
      auto read = co_await reader.read(ns, "q");
      CO_ASSERT(read.ok(), read.error().detail);
    }
    CO_ASSERT(co_await wait_leased(*reader_client->tracker(), counter), "no lease was taken");

    const auto started = Clock::now();
    std::vector<std::string> counters{counter, broken};
    auto bumped = co_await writer.bump(std::move(counters));
    EXPECT_FALSE(bumped.ok()) << "a bump of a counter that is not a number succeeded";
    EXPECT_EQ(co_await get_value(*writer_client, counter), "101") << "the script did not run";
    EXPECT_EQ(writes.stats().writer_waits, 1u) << "a failed bump answered without waiting";
    EXPECT_GE(Clock::now() - started, InvalidationTracker::kWritersWait);
    reader_client->stop();
    writer_client->stop();
  });
}

TEST_F(InvalidationTrackerTest, AValueIsUsedOnlyUnderTheLeaseInForceWhenItWasRead) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string origin = reader->server_id();
    const std::string k = key("gen:terms");
    const std::vector<std::string> keys{k};
    using Tracker = InvalidationTracker;
    using namespace std::chrono_literals;

    // Read with no lease: kept (it shows the counter is read), not usable.
    auto mark = tracker.mark();
    CO_ASSERT(mark.has_value(), "no mark while live");
    EXPECT_TRUE(tracker.leases_wanted(keys).empty()) << "a lease wanted before any read";
    tracker.keep(k, "7", *mark, origin, tracker.lease_term(k));
    EXPECT_EQ(tracker.kept(k), nullptr) << "a value read under no lease was used";
    EXPECT_EQ(tracker.leases_wanted(keys), keys);
    EXPECT_TRUE(tracker.leases_wanted(keys).empty()) << "asked twice while the first was out";

    // A refusal, or a grant from another Redis process, leaves no lease.
    tracker.leased(keys, Clock::now(), Clock::now(), origin, false);
    EXPECT_EQ(tracker.lease_term(k), 0u);
    EXPECT_EQ(tracker.leases_wanted(keys), keys);
    tracker.leased(keys, Clock::now(), Clock::now(), "another-process", true);
    EXPECT_EQ(tracker.lease_term(k), 0u);

    // Granted: a value read under it is used.
    EXPECT_EQ(tracker.leases_wanted(keys), keys);
    tracker.leased(keys, Clock::now(), Clock::now(), origin, true);
    const std::uint64_t term = tracker.lease_term(k);
    CO_ASSERT(term != 0, "no lease after a grant");
    EXPECT_TRUE(tracker.leases_wanted(keys).empty()) << "renewed long before it ends";
    mark = tracker.mark();
    tracker.keep(k, "7", *mark, origin, tracker.lease_term(k));
    CO_ASSERT(tracker.kept(k) != nullptr, "a value read under a lease was not used");

    // A renewal answered before the lease ran out goes on with the term.
    tracker.leased(keys, Clock::now(), Clock::now(), origin, true);
    EXPECT_EQ(tracker.lease_term(k), term);
    EXPECT_NE(tracker.kept(k), nullptr);

    // A lease that runs out makes what was read under it unusable, and a
    // grant after that starts a new term: a writer in the gap did not
    // wait, so the old value stays unusable. (A grant for a request sent
    // long ago ends soon: sent + kLeaseLength - kLeaseMargin.)
    const std::vector<std::string> other{key("gen:lapsing")};
    tracker.keep(other[0], "1", *tracker.mark(), origin, 0);
    const auto ends_soon = Clock::now() - Tracker::kLeaseLength + Tracker::kLeaseMargin + 20ms;
    tracker.leased(other, ends_soon, ends_soon, origin, true);
    const std::uint64_t lapsing = tracker.lease_term(other[0]);
    CO_ASSERT(lapsing != 0, "no lease after a grant");
    tracker.keep(other[0], "1", *tracker.mark(), origin, lapsing);
    CO_ASSERT(tracker.kept(other[0]) != nullptr, "not used under its lease");
    const auto deadline = Clock::now() + 5s;
    while (tracker.lease_term(other[0]) != 0 && Clock::now() < deadline) co_await sleep_for(1ms);
    EXPECT_EQ(tracker.kept(other[0]), nullptr) << "used after its lease ran out";
    EXPECT_EQ(tracker.leases_wanted(other), other) << "a lapsed lease of a read counter";
    tracker.leased(other, Clock::now(), Clock::now(), origin, true);
    EXPECT_NE(tracker.lease_term(other[0]), 0u);
    EXPECT_NE(tracker.lease_term(other[0]), lapsing) << "a lapsed lease's term went on";
    EXPECT_EQ(tracker.kept(other[0]), nullptr) << "a value kept under a lapsed lease was used";
    reader->stop();
  });
}

TEST_F(InvalidationTrackerTest, CountersAndRevocationMarksAreBoundedApart) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    const std::string origin = reader->server_id();
    const std::vector<std::string> counter{key("gen:hot")};
    const std::string mark = key("revoked:first");
    tracker.keep(counter[0], "1", *tracker.mark(), origin, 0);
    CO_ASSERT(tracker.leases_wanted(counter) == counter, "no lease wanted for a read counter");
    tracker.leased(counter, Clock::now(), Clock::now(), origin, true);
    tracker.keep(counter[0], "7", *tracker.mark(), origin, tracker.lease_term(counter[0]));
    tracker.keep(mark, "0", *tracker.mark(), origin, kNoLease);
    CO_ASSERT(tracker.kept(counter[0]) != nullptr, "the counter was not kept");

    // More marks than the bound (one per token that signs a request): the
    // marks start over, the counter stays.
    for (std::size_t i = 0; i <= InvalidationTracker::kMaxKept; ++i) {
      tracker.keep(key("revoked:" + std::to_string(i)), "0", *tracker.mark(), origin, kNoLease);
    }
    EXPECT_EQ(tracker.kept(mark), nullptr) << "the marks did not start over past their bound";
    const std::string* kept = tracker.kept(counter[0]);
    CO_ASSERT(kept != nullptr, "marks pushed out a counter");
    EXPECT_EQ(*kept, "7");

    // And the other way round.
    tracker.keep(mark, "0", *tracker.mark(), origin, kNoLease);
    for (std::size_t i = 0; i <= InvalidationTracker::kMaxKept; ++i) {
      tracker.keep(key("gen:" + std::to_string(i)), "1", *tracker.mark(), origin, 0);
    }
    EXPECT_NE(tracker.kept(mark), nullptr) << "counters pushed out a mark";
    EXPECT_EQ(tracker.kept(counter[0]), nullptr) << "the counters did not start over";
    reader->stop();
  });
}

// A private server: these kill connections and flush.
class InvalidationTrackerRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::free_port();
    server_ = std::make_unique<testing::RedisProcess>(port_);
    ASSERT_TRUE(server_->start());
    plain_.port = port_;
    plain_.writers_wait = true;
    tracked_ = plain_;
    tracked_.tracked_prefixes = {"k:"};
  }
  std::uint16_t port_ = 0;
  std::unique_ptr<testing::RedisProcess> server_;
  Config plain_;
  Config tracked_;
};

TEST_F(InvalidationTrackerRestartTest, ALostConnectionForgetsEverythingAndComesBack) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = co_await connected_client(io, plain_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    auto mark = tracker.mark();
    CO_ASSERT(mark.has_value(), "no mark while live");
    tracker.keep("k:a", "1", *mark, reader->server_id(), kNoLease);
    CO_ASSERT(tracker.kept("k:a") != nullptr, "not kept");

    // Invalidations for a connection Redis dropped are lost: nothing kept
    // before may be trusted after.
    auto killed = co_await writer->command("CLIENT", "KILL", "TYPE", "pubsub");
    CO_ASSERT(killed.ok() && killed->as_integer() == 1, "the tracking connection was not killed");
    const auto deadline = Clock::now() + 5s;
    while (tracker.stats().reconnects == 0 && Clock::now() < deadline) co_await sleep_for(5ms);
    EXPECT_EQ(tracker.stats().reconnects, 1u);
    EXPECT_EQ(tracker.kept("k:a"), nullptr) << "a value kept before the loss survived it";
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker did not come back");
    // A mark from before the loss keeps nothing.
    tracker.keep("k:a", "1", *mark, reader->server_id(), kNoLease);
    EXPECT_EQ(tracker.kept("k:a"), nullptr);
    EXPECT_TRUE(co_await tracker.fence());

    // FLUSHALL comes as one message without keys: everything goes.
    auto fresh = tracker.mark();
    CO_ASSERT(fresh.has_value(), "no mark while live");
    tracker.keep("k:b", "1", *fresh, reader->server_id(), kNoLease);
    auto flushed = co_await writer->command("FLUSHALL");
    CO_ASSERT(flushed.ok() && flushed->is_ok(), "FLUSHALL failed");
    EXPECT_TRUE(co_await tracker.fence());
    EXPECT_EQ(tracker.kept("k:b"), nullptr) << "a value kept before FLUSHALL survived it";
    reader->stop();
    writer->stop();
  });
}

TEST_F(InvalidationTrackerRestartTest, AfterRedisLostItsKeysEveryBumpWaitsForALeasesLength) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto writer_client = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*writer_client), "the tracker never went live");
    InvalidationTracker& writes = *writer_client->tracker();
    Cache writer(writer_client, kTrackedTtl);
    std::vector<std::string> counters{"k:gen:a"};
    // Leases that a FLUSHALL deleted cannot be told from none: the writers
    // after it wait as if every counter were leased, until a lease granted
    // before it would have run out.
    auto flushed = co_await writer_client->command("FLUSHALL");
    CO_ASSERT(flushed.ok() && flushed->is_ok(), "FLUSHALL failed");
    auto bumped = co_await writer.bump(counters);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    EXPECT_EQ(writes.stats().writer_waits, 1u) << "no wait right after Redis lost its leases";
    auto until = co_await writer_client->command("GET", std::string(kLostLeasesKey));
    CO_ASSERT(until.ok() && until->is_string(), "the loss was not recorded");
    auto now = co_await writer_client->command("TIME");
    CO_ASSERT(now.ok() && now->is_array(), "TIME failed");
    const auto now_ms = std::stoll(now->elements()[0].as_string()) * 1000 +
                        std::stoll(now->elements()[1].as_string()) / 1000;
    const auto lost_until = std::stoll(until->as_string());
    EXPECT_GT(lost_until, now_ms);
    EXPECT_LE(lost_until, now_ms + InvalidationTracker::kLeaseLength.count());
    bumped = co_await writer.bump(counters);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    EXPECT_EQ(writes.stats().writer_waits, 2u);
    // Once that time is past, only real leases count.
    co_await set_value(*writer_client, std::string(kLostLeasesKey), std::to_string(now_ms));
    bumped = co_await writer.bump(counters);
    CO_ASSERT(bumped.ok(), bumped.error().detail);
    EXPECT_EQ(writes.stats().writer_waits, 2u) << "waited after the loss's window";
    writer_client->stop();
  });
}

TEST_F(InvalidationTrackerRestartTest, KeptValuesAreNotFreshWhilePingsGoUnanswered) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    auto writer = co_await connected_client(io, plain_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    CO_ASSERT(co_await wait_fresh(tracker), "the tracker never became fresh");
    // Redis stops answering (everyone, PINGs included) for a while: past
    // kWritersWait the tracker may no longer vouch for what it kept.
    auto paused = co_await writer->command("CLIENT", "PAUSE", "300", "ALL");
    CO_ASSERT(paused.ok() && paused->is_ok(), "CLIENT PAUSE failed");
    co_await sleep_for(InvalidationTracker::kWritersWait + 20ms);
    EXPECT_FALSE(tracker.fresh()) << "fresh although no PING was answered for 22 ms";
    EXPECT_TRUE(tracker.live());
    // And it comes back by itself once Redis answers again.
    EXPECT_TRUE(co_await wait_fresh(tracker));
    reader->stop();
    writer->stop();
  });
}

TEST_F(InvalidationTrackerRestartTest, AFenceFailsAtOnceWhileRedisIsDown) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto reader = co_await connected_client(io, tracked_);
    CO_ASSERT(co_await wait_tracking(*reader), "the tracker never went live");
    InvalidationTracker& tracker = *reader->tracker();
    server_->kill();
    const auto deadline = Clock::now() + 5s;
    while (tracker.live() && Clock::now() < deadline) co_await sleep_for(5ms);
    EXPECT_FALSE(tracker.live());
    const auto asked = Clock::now();
    EXPECT_FALSE(co_await tracker.fence());
    EXPECT_LT(Clock::now() - asked, testing::kFastFailBound);
    EXPECT_FALSE(tracker.mark().has_value());
    reader->stop();
  });
}

}  // namespace
}  // namespace betsdb::redis
