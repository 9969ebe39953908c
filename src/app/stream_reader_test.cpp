// app::StreamReader against a private redis-server child (not the shared
// BETSDB_TEST_REDIS_URL: the stream has one fixed key, and the reader must be
// kept from reading while the stream moves on without it).
#include "app/stream_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/redis/match_stream.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using redis::testing::run_async;

// Far above what the reader takes to reconnect (its client's back-off is
// at most 1 s) and to read, far below a hang.
constexpr auto kWithin = 5s;

// What the reader handed over, from its thread.
class Seen final {
 public:
  void ready() {
    const std::scoped_lock lock(mutex_);
    ready_ = true;
    changed_.notify_all();
  }
  void deliver(const std::shared_ptr<const api::FrameBatch>& batch) {
    const std::scoped_lock lock(mutex_);
    for (const auto& frame : *batch) ids_.push_back(frame->id);
    changed_.notify_all();
  }
  void gap() {
    const std::scoped_lock lock(mutex_);
    ++gaps_;
    changed_.notify_all();
  }
  std::pair<std::vector<domain::EventId>, int> ids_and_gaps() {
    const std::scoped_lock lock(mutex_);
    return {ids_, gaps_};
  }
  // Waits until `done` holds (it sees ready, ids, gaps), at most kWithin.
  template <class Predicate>
  bool wait_until(Predicate done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWithin, [&] { return done(ready_, ids_, gaps_); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool ready_ = false;
  std::vector<domain::EventId> ids_;
  int gaps_ = 0;
};

// Holds a thread until released, once.
class Stall final {
 public:
  void hold() { released_.wait(); }
  void release() {
    if (!std::exchange(released_once_, true)) release_.set_value();
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_once_ = false;
};

struct ReleaseOnExit {
  Stall& stall;
  ~ReleaseOnExit() { stall.release(); }
};

// One command; Redis's refusal is an error too. The arguments must outlive
// it (literals, named strings).
template <class... Args>
asio::awaitable<Result<redis::Reply>> run(redis::Commands& redis, const Args&... args) {
  auto reply = co_await redis.command(args...);
  if (reply.ok() && reply->is_error()) co_return Error::internal(reply->as_string());
  co_return reply;
}

TEST(StreamReader, EndsTheStreamsWhenTheStreamWasTrimmedPastItWhileItCouldNotRead) {
  const std::uint16_t port = redis::testing::free_port();
  redis::testing::RedisProcess server(port);
  ASSERT_TRUE(server.start()) << "cannot spawn /usr/bin/redis-server";
  const std::string at = "127.0.0.1:" + std::to_string(port);
  const std::string key = redis::kMatchStreamKey;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    redis::Config admin_config;
    admin_config.port = port;
    auto admin = redis::Client::create(io.get_executor(), admin_config);
    admin->start();
    // redis-server needs a moment to listen; the client's own retries find it.
    const Status up = co_await admin->wait_connected(10s);
    CO_ASSERT(up.ok(), up.error().detail);
    // The reader signs in as a user of its own, so that it alone can be
    // kept out.
    auto user = co_await run(*admin, "ACL", "SETUSER", "reader", "on", ">secret", "~*", "+@all");
    CO_ASSERT(user.ok(), user.error().detail);

    Config config;
    config.redis_url = "redis://reader:secret@" + at + "/0";
    Seen seen;
    StreamReader reader(
        config, [&seen](std::shared_ptr<const api::FrameBatch> batch) { seen.deliver(batch); },
        [&seen] { seen.ready(); }, [&seen] { seen.gap(); });
    reader.start();
    CO_ASSERT(seen.wait_until([](bool ready, auto&, int) { return ready; }), "never ready");
    auto first = co_await run(*admin, "XADD", key, "*", "m", "1", "d", "{}");
    CO_ASSERT(first.ok(), first.error().detail);
    CO_ASSERT(seen.wait_until([](bool, auto& ids, int) { return ids.size() == 1; }),
              "the first event was not delivered");

    // Kept out (the user first, so that it cannot come straight back)
    // while twenty events are published and all but the last five trimmed,
    // the one the reader read included.
    auto off = co_await run(*admin, "ACL", "SETUSER", "reader", "off");
    CO_ASSERT(off.ok(), off.error().detail);
    auto kill = co_await run(*admin, "CLIENT", "KILL", "USER", "reader");
    CO_ASSERT(kill.ok(), kill.error().detail);
    for (int i = 0; i < 20; ++i) {
      auto added = co_await run(*admin, "XADD", key, "MAXLEN", "5", "*", "m", "2", "d", "{}");
      CO_ASSERT(added.ok(), added.error().detail);
    }
    auto on = co_await run(*admin, "ACL", "SETUSER", "reader", "on");
    CO_ASSERT(on.ok(), on.error().detail);

    // Back, it reports the gap and delivers none of the five after it.
    CO_ASSERT(seen.wait_until([](bool, auto& ids, int gaps) { return gaps > 0 || ids.size() > 1; }),
              "the reader neither reported a gap nor delivered anything after reconnecting");
    const auto [delivered, gaps] = seen.ids_and_gaps();
    EXPECT_EQ(gaps, 1);
    CO_ASSERT(delivered.size() == 1, "the reader delivered the events after the gap");

    // Then it reads on from there: the next event, and only it.
    auto next = co_await run(*admin, "XADD", key, "*", "m", "3", "d", "{}");
    CO_ASSERT(next.ok(), next.error().detail);
    const auto next_id = domain::EventId::parse(next->as_string());
    CO_ASSERT(next_id, "XADD's answer is an id");
    CO_ASSERT(seen.wait_until([](bool, auto& ids, int) { return ids.size() >= 2; }),
              "the event after the gap was not delivered");
    EXPECT_TRUE(seen.wait_until([&](bool, auto& ids, int gap_count) {
      return gap_count == 1 && ids.size() == 2 && ids[1] == *next_id;
    }));
    reader.stop();
    admin->stop();
  });
}

// A reader that began on an empty stream reads from its very start: a first
// batch that is full (an import's events, appended by one script) is not a
// gap while the stream never lost an event, and every event is delivered.
TEST(StreamReader, AFullFirstBatchOnAStreamThatStartedEmptyIsDeliveredNotAGap) {
  const std::uint16_t port = redis::testing::free_port();
  redis::testing::RedisProcess server(port);
  ASSERT_TRUE(server.start()) << "cannot spawn /usr/bin/redis-server";
  const std::string key = redis::kMatchStreamKey;
  const std::string count = std::to_string(kStreamReadBatch + 100);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    redis::Config admin_config;
    admin_config.port = port;
    auto admin = redis::Client::create(io.get_executor(), admin_config);
    admin->start();
    const Status up = co_await admin->wait_connected(10s);
    CO_ASSERT(up.ok(), up.error().detail);

    Config config;
    config.redis_url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    Seen seen;
    StreamReader reader(
        config, [&seen](std::shared_ptr<const api::FrameBatch> batch) { seen.deliver(batch); },
        [&seen] { seen.ready(); }, [&seen] { seen.gap(); });
    reader.start();
    CO_ASSERT(seen.wait_until([](bool ready, auto&, int) { return ready; }), "never ready");
    // All at once, as the outbox's relay appends a batch: the reader's
    // first read is a full batch.
    const std::string script =
        "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'm', '1', 'd', '{}') end";
    auto added = co_await run(*admin, "EVAL", script, "1", key, count);
    CO_ASSERT(added.ok(), added.error().detail);
    CO_ASSERT(seen.wait_until([&](bool, auto& ids, int gaps) {
      return gaps > 0 || ids.size() == kStreamReadBatch + 100;
    }),
              "the events were not delivered");
    const auto [delivered, gaps] = seen.ids_and_gaps();
    EXPECT_EQ(gaps, 0) << "a stream that never lost an event reported a gap";
    EXPECT_EQ(delivered.size(), kStreamReadBatch + 100);
    reader.stop();
    admin->stop();
  });
}

TEST(StreamReader, EndsTheStreamsWhenTheStreamWasTrimmedPastItWhileItWasStalled) {
  const std::uint16_t port = redis::testing::free_port();
  redis::testing::RedisProcess server(port);
  ASSERT_TRUE(server.start()) << "cannot spawn /usr/bin/redis-server";
  const std::string key = redis::kMatchStreamKey;
  // The stream keeps more than a read's batch, as the server's does, and
  // the stall lasts for twice that many events: the event the reader read
  // last is trimmed, with the ones after it up to the kept ones.
  const std::string keep = std::to_string(kStreamReadBatch + 100);
  const std::size_t published_while_stalled = 2 * (kStreamReadBatch + 100);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    redis::Config admin_config;
    admin_config.port = port;
    auto admin = redis::Client::create(io.get_executor(), admin_config);
    admin->start();
    const Status up = co_await admin->wait_connected(10s);
    CO_ASSERT(up.ok(), up.error().detail);

    Config config;
    config.redis_url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    Seen seen;
    // The first delivery holds the reader's thread until released: a stall
    // with no failed read, so only the batch it reads next can show the gap.
    Stall stall;
    bool stalled_once = false;
    StreamReader reader(
        config,
        [&](std::shared_ptr<const api::FrameBatch> batch) {
          seen.deliver(batch);
          if (!std::exchange(stalled_once, true)) stall.hold();
        },
        [&seen] { seen.ready(); }, [&seen] { seen.gap(); });
    // Released on every way out, before the reader's destructor joins its
    // thread: a failed assertion must not leave the thread held.
    const ReleaseOnExit release_on_exit{stall};
    reader.start();
    CO_ASSERT(seen.wait_until([](bool ready, auto&, int) { return ready; }), "never ready");
    auto first = co_await run(*admin, "XADD", key, "*", "m", "1", "d", "{}");
    CO_ASSERT(first.ok(), first.error().detail);
    CO_ASSERT(seen.wait_until([](bool, auto& ids, int) { return ids.size() == 1; }),
              "the first event was not delivered");

    // The reader's thread is held in that delivery meanwhile.
    std::vector<domain::EventId> kept;
    for (std::size_t i = 0; i < published_while_stalled; ++i) {
      auto added = co_await run(*admin, "XADD", key, "MAXLEN", keep, "*", "m", "2", "d", "{}");
      CO_ASSERT(added.ok(), added.error().detail);
      const auto id = domain::EventId::parse(added->as_string());
      CO_ASSERT(id, "XADD's answer is an id");
      kept.push_back(*id);
    }
    kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(kStreamReadBatch + 100));
    stall.release();

    // Its next read is a full batch of the kept events: not delivered, the
    // gap reported instead; then the rest of the kept ones, delivered.
    const std::size_t rest = kept.size() - kStreamReadBatch;
    CO_ASSERT(seen.wait_until([&](bool, auto& ids, int) { return ids.size() >= 1 + rest; }),
              "the events after the gap were not delivered");
    const auto [delivered, gaps] = seen.ids_and_gaps();
    EXPECT_EQ(gaps, 1);
    CO_ASSERT(delivered.size() == 1 + rest, "the reader delivered the batch that showed the gap");
    EXPECT_TRUE(std::equal(delivered.begin() + 1, delivered.end(), kept.end() - rest));
    reader.stop();
    admin->stop();
  });
}

}  // namespace
}  // namespace betsdb::app
