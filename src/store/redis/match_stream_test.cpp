// The live stream's Redis side against the shared test Redis
// (BETSDB_TEST_REDIS_URL). The stream has one fixed key, so everything about
// it is one test: ctest runs tests of a program in parallel.
#include "store/redis/match_stream.hpp"

#include <gtest/gtest.h>

#include <random>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::run_async;

TEST(MatchStream, AppendsEachOutboxEntryOnceInOrderAndReadsItBack) {
  auto cfg = testing::test_redis_config();
  ASSERT_TRUE(cfg);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto redis = Client::create(io.get_executor(), *cfg);
    redis->start();
    const Status up = co_await redis->wait_connected(5s);
    CO_ASSERT(up.ok(), "Redis is not reachable");
    auto deleted = co_await redis->command("DEL", kMatchStreamKey);
    CO_ASSERT(deleted.ok(), "DEL failed");

    auto empty = co_await newest_match_event(*redis);
    CO_ASSERT(empty.ok() && !*empty, "a missing stream has no newest event");

    // Outbox ids no earlier run has marked as sent.
    std::random_device random;
    const std::int64_t base = (static_cast<std::int64_t>(random()) << 20) + 1;
    const std::vector<StreamAppend> first{{base, "a", 7, R"({"id":7,"v":1})"},
                                          {base + 1, "b", 8, R"({"id":8,"v":1})"},
                                          {base + 2, "c", 7, R"({"id":7,"v":2})"}};
    auto appended = co_await append_match_events(*redis, first, 10'000);
    CO_ASSERT(appended.ok() && *appended == 3, "three new entries are appended");

    // A second publisher with an overlapping batch appends only the new one.
    const std::vector<StreamAppend> second{{base + 1, "b", 8, R"({"id":8,"v":1})"},
                                           {base + 2, "c", 7, R"({"id":7,"v":2})"},
                                           {base + 3, "d", 9, R"({"id":9,"v":1})"}};
    appended = co_await append_match_events(*redis, second, 10'000);
    CO_ASSERT(appended.ok() && *appended == 1, "entries appended before are not appended again");

    auto all = co_await match_events_from(*redis, domain::EventId{0, 0}, 100);
    CO_ASSERT(all.ok() && all->size() == 4, "the stream holds four events");
    const std::vector<std::int64_t> matches{7, 8, 7, 9};
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ((*all)[i].match_id, matches[i]);
      if (i > 0) {
        EXPECT_LT((*all)[i - 1].id, (*all)[i].id);
      }
    }
    EXPECT_EQ((*all)[2].data, R"({"id":7,"v":2})");

    // From an id: that event included; after an id: excluded.
    auto from = co_await match_events_from(*redis, (*all)[1].id, 100);
    CO_ASSERT(from.ok() && from->size() == 3, "from the second event on");
    EXPECT_EQ(from->front().id, (*all)[1].id);
    auto after = co_await read_match_events_after(*redis, (*all)[1].id, 100ms, 100);
    CO_ASSERT(after.ok() && after->size() == 2, "after the second event");
    EXPECT_EQ(after->front().id, (*all)[2].id);

    // Nothing newer: the blocking read times out empty.
    auto none = co_await read_match_events_after(*redis, (*all)[3].id, 50ms, 100);
    CO_ASSERT(none.ok() && none->empty(), "nothing after the newest event");

    auto newest = co_await newest_match_event(*redis);
    CO_ASSERT(newest.ok() && *newest, "the newest event is known");
    EXPECT_EQ(**newest, (*all)[3].id);

    // Whether anything after an id can have been trimmed: not after a held
    // id, nor after one newer than every event; after one the stream does
    // not hold while it holds newer ones, it cannot tell.
    auto held = co_await match_events_held_after(*redis, (*all)[1].id);
    CO_ASSERT(held.ok(), "held after a held id");
    EXPECT_TRUE(*held);
    const domain::EventId newer{(*all)[3].id.ms + 1, 0};
    held = co_await match_events_held_after(*redis, newer);
    CO_ASSERT(held.ok(), "held after a newer id");
    EXPECT_TRUE(*held);
    const domain::EventId never{1, 0};
    held = co_await match_events_held_after(*redis, never);
    CO_ASSERT(held.ok(), "held after an id never held");
    EXPECT_FALSE(*held);
    // From the very start (a reader that began on an empty stream): held
    // while the stream never deleted an event, not once it trimmed one.
    held = co_await match_events_held_after(*redis, domain::EventId{});
    CO_ASSERT(held.ok(), "held from the start");
    EXPECT_TRUE(*held);
    auto trimmed = co_await redis->command("XTRIM", kMatchStreamKey, "MAXLEN", "1");
    CO_ASSERT(trimmed.ok() && trimmed->is_integer() && trimmed->as_integer() == 3, "three trimmed");
    held = co_await match_events_held_after(*redis, domain::EventId{});
    CO_ASSERT(held.ok(), "held from the start, after a trim");
    EXPECT_FALSE(*held);

    // An outbox id handed out again (a failover, a restore) names another
    // change, under a key of its own: appended, and the mark then names it,
    // so the new change is not appended twice. A mark "1", left by a betsdb
    // from before publish keys, is a row it published: not appended again.
    const std::string old_mark = kMatchStreamKey + ":sent:" + std::to_string(base + 10);
    auto marked_by_old = co_await redis->command("SET", old_mark, "1", "EX", "60");
    CO_ASSERT(marked_by_old.ok(), "SET of an old-style mark failed");
    const std::vector<StreamAppend> reused{{base, "e", 7, R"({"id":7,"v":3})"},
                                           {base, "e", 7, R"({"id":7,"v":3})"},
                                           {base + 10, "f", 7, R"({"id":7,"v":4})"}};
    appended = co_await append_match_events(*redis, reused, 10'000);
    CO_ASSERT(appended.ok() && *appended == 1, "a new change under an old outbox id is appended");
    auto now_held = co_await match_events_from(*redis, domain::EventId{0, 0}, 100);
    CO_ASSERT(now_held.ok() && now_held->size() == 2, "the one left by the trim, and the new one");
    EXPECT_EQ(now_held->back().data, R"({"id":7,"v":3})");
    co_await redis->command("DEL", kMatchStreamKey);
    redis->stop();
  });
}

}  // namespace
}  // namespace betsdb::redis
