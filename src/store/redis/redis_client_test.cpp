// Integration tests against the shared test Redis (BETSDB_TEST_REDIS_URL).
#include "store/redis/redis_client.hpp"

#include <gtest/gtest.h>

#include <set>

#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace std::string_literals;
using testing::connected_client;
using testing::kAwait;
using testing::run_async;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = testing::test_redis_config();
    ASSERT_TRUE(cfg.has_value());
    cfg_ = *cfg;
    prefix_ = testing::unique_key_prefix("redis_client");
  }
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  Config cfg_;
  std::string prefix_;
};

TEST_F(RedisClientTest, SetThenGetRoundTrips) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto set = co_await client->command("SET", key("greeting"), "hello", "EX", "60");
    CO_ASSERT(set.ok(), set.error().detail);
    EXPECT_TRUE(set->is_ok()) << set->describe();
    auto get = co_await client->command("GET", key("greeting"));
    CO_ASSERT(get.ok(), get.error().detail);
    EXPECT_EQ(*get, Reply::string("hello"));
    auto missing = co_await client->command("GET", key("missing"));
    CO_ASSERT(missing.ok(), missing.error().detail);
    EXPECT_TRUE(missing->is_nil());
    // The initializer_list form, called outside the co_await (see redis_client.hpp).
    auto pending_get = client->command({"GET", key("greeting")});
    auto again = co_await std::move(pending_get);
    CO_ASSERT(again.ok(), again.error().detail);
    EXPECT_EQ(*again, Reply::string("hello"));
    client->stop();
  });
}

TEST_F(RedisClientTest, ValuesAndKeysAreBinarySafe) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    std::string value = "a\0b\r\nc\r\n$3\r\n*1\r\n"s;
    for (int byte = 0; byte < 256; ++byte) value += static_cast<char>(byte);
    const std::string binary_key = key("bin\r\n\0key"s);
    std::vector<std::string> set_args{"SET", binary_key, value, "EX", "60"};
    auto set = co_await client->command(std::move(set_args));
    CO_ASSERT(set.ok(), set.error().detail);
    EXPECT_TRUE(set->is_ok()) << set->describe();
    auto get = co_await client->command("GET", binary_key);
    CO_ASSERT(get.ok(), get.error().detail);
    EXPECT_EQ(get->as_string(), value);
    auto len = co_await client->command("STRLEN", binary_key);
    CO_ASSERT(len.ok(), len.error().detail);
    EXPECT_EQ(len->as_integer(), static_cast<std::int64_t>(value.size()));
    client->stop();
  });
}

TEST_F(RedisClientTest, ErrorReplyIsAReplyNotATransportError) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto set = co_await client->command("SET", key("text"), "x", "EX", "60");
    CO_ASSERT(set.ok(), set.error().detail);
    auto wrong = co_await client->command("LPUSH", key("text"), "y");
    CO_ASSERT(wrong.ok(), wrong.error().detail);
    EXPECT_TRUE(wrong->is_error());
    EXPECT_TRUE(wrong->has_error_code("WRONGTYPE")) << wrong->describe();
    // The connection stays in step after an error reply.
    auto get = co_await client->command("GET", key("text"));
    CO_ASSERT(get.ok(), get.error().detail);
    EXPECT_EQ(*get, Reply::string("x"));
    client->stop();
  });
}

TEST_F(RedisClientTest, ManyArgumentsAndArrayReplies) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    std::vector<std::string> push{"RPUSH", key("list")};
    std::vector<Reply> expected;
    for (int i = 0; i < 40; ++i) {
      push.push_back("item-" + std::to_string(i));
      expected.push_back(Reply::string("item-" + std::to_string(i)));
    }
    auto pushed = co_await client->command(push);
    CO_ASSERT(pushed.ok(), pushed.error().detail);
    EXPECT_EQ(pushed->as_integer(), 40);
    auto range = co_await client->command("LRANGE", key("list"), "0", "-1");
    CO_ASSERT(range.ok(), range.error().detail);
    EXPECT_EQ(*range, Reply::array(expected));
    (void)co_await client->command("DEL", key("list"));  // cleanup; a failure changes nothing
    client->stop();
  });
}

// 1,000 coroutines share one connection: each must get its own answers back, and
// the client must have coalesced their commands into far fewer writes.
TEST_F(RedisClientTest, ConcurrentCommandsArePipelinedAndMatchedInOrder) {
  constexpr int kTasks = 1000;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    const auto before = client->stats();
    testing::Latch done(io.get_executor(), kTasks);
    int correct = 0;
    std::set<std::int64_t> counter_values;
    for (int i = 0; i < kTasks; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            const std::string k = key("task:" + std::to_string(i));
            const std::string v = "value-" + std::to_string(i) + std::string(i % 50, 'x');
            auto set = co_await client->command("SET", k, v, "EX", "60");
            auto incr = co_await client->command("INCR", key("counter"));
            auto get = co_await client->command("GET", k);
            if (set.ok() && set->is_ok() && get.ok() && *get == Reply::string(v)) ++correct;
            if (incr.ok() && incr->is_integer()) counter_values.insert(incr->as_integer());
          },
          [&](std::exception_ptr) { done.count_down(); });
    }
    co_await done.wait();
    EXPECT_EQ(correct, kTasks);
    // Every INCR got its own, distinct value 1..1000.
    EXPECT_EQ(counter_values.size(), static_cast<std::size_t>(kTasks));
    EXPECT_EQ(*counter_values.begin(), 1);
    EXPECT_EQ(*counter_values.rbegin(), kTasks);
    const auto after = client->stats();
    EXPECT_EQ(after.commands_sent - before.commands_sent, 3u * kTasks);
    EXPECT_LT(after.writes - before.writes, static_cast<std::uint64_t>(kTasks) / 10)
        << "commands were not pipelined";
    (void)co_await client->command("DEL", key("counter"));  // cleanup
    client->stop();
  });
}

TEST_F(RedisClientTest, BatchRunsMultiExecWithoutInterleaving) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    const std::string counter = key("tx");
    Batch tx;
    tx.add("MULTI")
        .add("INCR", counter)
        .add("INCR", counter)
        .add("EXPIRE", counter, "60")
        .add("EXEC");
    auto batch = co_await client->batch(std::move(tx));
    CO_ASSERT(batch.ok(), batch.error().detail);
    CO_ASSERT(batch->size() == 5u, "");
    EXPECT_TRUE((*batch)[0].is_ok());
    EXPECT_EQ((*batch)[1], Reply::status("QUEUED"));
    EXPECT_EQ((*batch)[2], Reply::status("QUEUED"));
    EXPECT_EQ((*batch)[4], Reply::array({Reply::integer(1), Reply::integer(2), Reply::integer(1)}));

    auto empty = co_await client->batch(Batch{});
    CO_ASSERT(empty.ok(), empty.error().detail);
    EXPECT_TRUE(empty->empty());

    // The vector-of-vectors form; an empty command makes the whole batch invalid.
    std::vector<std::vector<std::string>> with_empty{{"PING"}, {}};
    auto bad = co_await client->batch(std::move(with_empty));
    CO_ASSERT(!bad.ok(), "expected a failure");
    EXPECT_EQ(bad.error().code, Errc::internal);
    client->stop();
  });
}

TEST_F(RedisClientTest, BatchesAndSingleCommandsInterleaveOnlyBetweenBatches) {
  constexpr int kTasks = 200;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    testing::Latch done(io.get_executor(), 2 * kTasks);
    int good_batches = 0;
    int good_singles = 0;
    for (int i = 0; i < kTasks; ++i) {
      const std::string k = key("mix:" + std::to_string(i));
      asio::co_spawn(
          io,
          [&, k]() -> asio::awaitable<void> {
            Batch tx;
            tx.add("MULTI").add("SET", k, "1", "EX", "60").add("INCR", k).add("EXEC");
            auto r = co_await client->batch(std::move(tx));
            if (r.ok() && r->size() == 4 &&
                (*r)[3] == Reply::array({Reply::status("OK"), Reply::integer(2)})) {
              ++good_batches;
            }
          },
          [&](std::exception_ptr) { done.count_down(); });
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            auto r = co_await client->command("PING");
            if (r.ok() && *r == Reply::status("PONG")) ++good_singles;
          },
          [&](std::exception_ptr) { done.count_down(); });
    }
    co_await done.wait();
    EXPECT_EQ(good_batches, kTasks);
    EXPECT_EQ(good_singles, kTasks);
    client->stop();
  });
}

TEST_F(RedisClientTest, EvalFallsBackToEvalOnNoscriptThenUsesEvalsha) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    const Script script(
        "redis.call('SET', KEYS[1], ARGV[1], 'EX', 60) return {KEYS[1], ARGV[1], 7}");
    auto flushed = co_await client->command("SCRIPT", "FLUSH");
    CO_ASSERT(flushed.ok(), flushed.error().detail);
    CO_ASSERT(flushed->is_ok(), flushed->describe());

    const auto before_first = client->stats().commands_sent;
    std::vector<std::string> keys{key("lua")};
    std::vector<std::string> first_args{"one"};
    auto first = co_await client->eval(script, keys, std::move(first_args));
    CO_ASSERT(first.ok(), first.error().detail);
    EXPECT_EQ(*first,
              Reply::array({Reply::string(key("lua")), Reply::string("one"), Reply::integer(7)}));
    EXPECT_EQ(client->stats().commands_sent - before_first, 2u) << "expected EVALSHA then EVAL";

    auto cached = co_await client->command("SCRIPT", "EXISTS", script.sha1());
    CO_ASSERT(cached.ok(), cached.error().detail);
    EXPECT_EQ(*cached, Reply::array({Reply::integer(1)}));

    const auto before_second = client->stats().commands_sent;
    std::vector<std::string> second_args{"two"};
    auto second = co_await client->eval(script, keys, std::move(second_args));
    CO_ASSERT(second.ok(), second.error().detail);
    EXPECT_EQ((*second).elements().at(1), Reply::string("two"));
    EXPECT_EQ(client->stats().commands_sent - before_second, 1u) << "expected EVALSHA only";

    auto get = co_await client->command("GET", key("lua"));
    CO_ASSERT(get.ok(), get.error().detail);
    EXPECT_EQ(*get, Reply::string("two"));

    // A script error is an error reply, not a transport failure.
    const Script failing("return redis.call('NOSUCHCOMMAND')");
    auto failed = co_await client->eval(failing, {}, {});
    CO_ASSERT(failed.ok(), failed.error().detail);
    EXPECT_TRUE(failed->is_error()) << failed->describe();
    client->stop();
  });
}

TEST_F(RedisClientTest, StopFailsPendingAndLaterCommands) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    std::optional<Result<Reply>> pending;
    testing::Latch done(io.get_executor(), 1);
    const auto sent_before = client->stats().commands_sent;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // Blocks server-side well beyond the test, so only stop() can end it.
          pending.emplace(co_await client->command("BLPOP", key("never"), "0"));
        },
        [&](std::exception_ptr) { done.count_down(); });
    // Let the spawned coroutine run up to its co_await, which queues the BLPOP.
    for (int turn = 0; turn < 100 && client->stats().commands_sent == sent_before; ++turn) {
      co_await asio::post(io, asio::use_awaitable);
    }
    CO_ASSERT(client->stats().commands_sent == sent_before + 1, "BLPOP was not sent");
    client->stop();
    co_await done.wait();
    CO_ASSERT(pending.has_value(), "");
    CO_ASSERT(!pending->ok(), "expected a failure");
    EXPECT_EQ(pending->error().code, Errc::service_unavailable);
    EXPECT_NE(pending->error().detail.find("stopped"), std::string::npos)
        << pending->error().detail;
    EXPECT_FALSE(client->connected());

    auto later = co_await client->command("PING");
    CO_ASSERT(!later.ok(), "expected a failure");
    EXPECT_EQ(later.error().code, Errc::service_unavailable);
    EXPECT_NE(later.error().detail.find("stopped"), std::string::npos) << later.error().detail;
  });
}

TEST_F(RedisClientTest, SelectsTheConfiguredDatabase) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    Config other = cfg_;
    other.db = cfg_.db == 1 ? 2 : 1;
    auto a = co_await connected_client(io, cfg_);
    auto b = co_await connected_client(io, other);
    auto set = co_await a->command("SET", key("db"), "here", "EX", "60");
    CO_ASSERT(set.ok(), set.error().detail);
    auto in_a = co_await a->command("EXISTS", key("db"));
    auto in_b = co_await b->command("EXISTS", key("db"));
    CO_ASSERT(in_a.ok() && in_b.ok(), "");
    EXPECT_EQ(in_a->as_integer(), 1);
    EXPECT_EQ(in_b->as_integer(), 0);
    a->stop();
    b->stop();
  });
}

}  // namespace
}  // namespace betsdb::redis
