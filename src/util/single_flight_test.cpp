// SingleFlight across two shards (io_context threads): concurrent callers of a
// key share one load, whose loader the test holds open until every caller has
// joined, so "ran once" is proven rather than hoped for.
#include "util/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace betsdb {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Far beyond what any step takes on a loaded machine; only a hang reaches it.
constexpr auto kBound = 20s;

// Waits (on the test's own thread, never on a loop) until `done()` holds.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds bound = kBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// One io_context run by its own thread: a shard.
class Shard final {
 public:
  Shard() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~Shard() {
    work_.reset();
    io_.stop();  // a test that failed half-way must not hang on join
    thread_.join();
  }
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  asio::io_context::executor_type executor() { return io_.get_executor(); }

  // Completes once every handler that was running or queued on this shard
  // when it was called has run: a caller that has counted itself in (see
  // Callers) has, by then, also joined its flight, since both happen in the
  // same uninterrupted handler.
  ::testing::AssertionResult settle() {
    std::promise<void> reached;
    auto future = reached.get_future();
    asio::post(io_, [&reached] { reached.set_value(); });
    if (future.wait_for(kBound) != std::future_status::ready) {
      return ::testing::AssertionFailure() << "the shard did not run a posted handler";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// A loader the test holds open: it counts its runs, then waits on a timer of
// the executor it runs on until the test opens the gate (or it is told to throw).
class HeldLoader final {
 public:
  explicit HeldLoader(std::string value) : value_(std::move(value)) {}

  SingleFlight::Load load() {
    return [this]() -> asio::awaitable<Result<std::string>> {
      const int run = ++runs_;
      auto executor = co_await asio::this_coro::executor;
      auto gate =
          std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
      {
        std::lock_guard lock(mutex_);
        gates_.push_back({executor, gate});
      }
      co_await gate->async_wait(kAwait);
      if (throw_) throw std::runtime_error("the loader failed");
      if (fail_) co_return Error::unavailable("the database is away");
      co_return value_ + " #" + std::to_string(run);
    };
  }

  int runs() const { return runs_.load(); }
  // Loads waiting at the gate now.
  std::size_t held() const {
    std::lock_guard lock(mutex_);
    return gates_.size();
  }
  // Lets every held load finish (with its value, an error, or an exception).
  void open(bool throw_exception = false, bool fail = false) {
    throw_ = throw_exception;
    fail_ = fail;
    std::lock_guard lock(mutex_);
    for (auto& [executor, gate] : gates_) asio::post(executor, [gate = gate] { gate->cancel(); });
    gates_.clear();
  }

 private:
  struct Gate {
    asio::any_io_executor executor;
    std::shared_ptr<asio::steady_timer> gate;
  };
  std::string value_;
  std::atomic<int> runs_{0};
  std::atomic<bool> throw_{false};
  std::atomic<bool> fail_{false};
  mutable std::mutex mutex_;
  std::vector<Gate> gates_;
};

// What one caller of run() got.
struct Outcome {
  std::optional<Result<std::string>> result;
  std::string exception;  // what() of an exception that reached the caller
};

// Callers of SingleFlight::run, each a coroutine on a shard. A caller counts
// itself in right before co_await run(...), in the same handler in which run()
// registers it as leader or follower, so once a shard has settled after the
// count was reached, every caller on it has joined its flight.
class Callers final {
 public:
  explicit Callers(SingleFlight& flights) : flights_(flights) {}

  void spawn(Shard& shard, std::string key, SingleFlight::Load load) {
    const std::size_t index = add_slot();
    asio::co_spawn(
        shard.executor(),
        [this, index, key = std::move(key), load = std::move(load)]() -> asio::awaitable<void> {
          ++joined_;
          Outcome outcome;
          try {
            outcome.result.emplace(co_await flights_.run(key, load));
          } catch (const std::exception& e) {
            outcome.exception = e.what();
          }
          finish(index, std::move(outcome));
        },
        asio::detached);
  }

  int joined() const { return joined_.load(); }

  // Waits until every caller has an outcome; false on timeout.
  bool wait_all() {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, kBound, [this] { return finished_ == outcomes_.size(); });
  }
  std::size_t finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  const std::vector<Outcome>& outcomes() const { return outcomes_; }

 private:
  std::size_t add_slot() {
    std::lock_guard lock(mutex_);
    outcomes_.emplace_back();
    return outcomes_.size() - 1;
  }
  void finish(std::size_t index, Outcome outcome) {
    std::lock_guard lock(mutex_);
    outcomes_[index] = std::move(outcome);
    ++finished_;
    done_.notify_all();
  }

  SingleFlight& flights_;
  std::atomic<int> joined_{0};
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<Outcome> outcomes_;
  std::size_t finished_ = 0;
};

constexpr int kCallersPerShard = 25;

TEST(SingleFlight, ConcurrentCallersOnTwoShardsShareOneLoad) {
  SingleFlight flights;
  HeldLoader loader("summary");
  // Shards last: they stop (and drop any parked caller) before what callers use goes.
  Callers callers(flights);
  Shard a;
  Shard b;
  {
    for (int i = 0; i < kCallersPerShard; ++i) {
      callers.spawn(a, "bets_summary:0:all", loader.load());
      callers.spawn(b, "bets_summary:0:all", loader.load());
    }
    ASSERT_TRUE(wait_until([&] { return callers.joined() == 2 * kCallersPerShard; }));
    ASSERT_TRUE(a.settle());
    ASSERT_TRUE(b.settle());

    // Everyone has joined and the one load is still held open.
    EXPECT_EQ(loader.runs(), 1);
    EXPECT_EQ(loader.held(), 1u);
    EXPECT_EQ(flights.in_flight(), 1u);
    EXPECT_EQ(callers.finished(), 0u) << "followers must wait for the leader's load";

    loader.open();
    ASSERT_TRUE(callers.wait_all())
        << callers.finished() << " of " << 2 * kCallersPerShard << " finished";
    EXPECT_EQ(loader.runs(), 1);
    EXPECT_EQ(flights.in_flight(), 0u);
    for (const auto& outcome : callers.outcomes()) {
      EXPECT_EQ(outcome.exception, "");
      ASSERT_TRUE(outcome.result.has_value());
      ASSERT_TRUE(outcome.result->ok()) << outcome.result->error().detail;
      EXPECT_EQ(**outcome.result, "summary #1");
    }
  }
}

TEST(SingleFlight, DifferentKeysLoadSeparatelyAndConcurrently) {
  SingleFlight flights;
  HeldLoader first("first");
  HeldLoader second("second");
  Callers callers(flights);
  Shard a;
  Shard b;
  for (int i = 0; i < 5; ++i) {
    callers.spawn(a, "matches:list:0:team=x", first.load());
    callers.spawn(b, "matches:list:0:team=x", first.load());
    callers.spawn(a, "matches:list:0:team=y", second.load());
    callers.spawn(b, "matches:list:0:team=y", second.load());
  }
  ASSERT_TRUE(wait_until([&] { return callers.joined() == 20; }));
  ASSERT_TRUE(a.settle());
  ASSERT_TRUE(b.settle());
  // Both loads run at the same time: one key's load does not wait for another's.
  EXPECT_EQ(first.runs(), 1);
  EXPECT_EQ(second.runs(), 1);
  EXPECT_EQ(first.held(), 1u);
  EXPECT_EQ(second.held(), 1u);
  EXPECT_EQ(flights.in_flight(), 2u);

  // Finishing one key's load answers its callers only.
  second.open();
  ASSERT_TRUE(wait_until([&] { return callers.finished() == 10; }));
  EXPECT_EQ(flights.in_flight(), 1u);
  first.open();
  ASSERT_TRUE(callers.wait_all());
  for (std::size_t i = 0; i < callers.outcomes().size(); ++i) {
    const auto& outcome = callers.outcomes()[i];
    ASSERT_TRUE(outcome.result.has_value() && outcome.result->ok()) << i;
    // Spawned in rounds of x(a), x(b), y(a), y(b).
    EXPECT_EQ(**outcome.result, i % 4 < 2 ? "first #1" : "second #1") << i;
  }
  EXPECT_EQ(flights.in_flight(), 0u);
}

TEST(SingleFlight, AKeyAskedAfterItsLoadFinishedLoadsAgain) {
  SingleFlight flights;
  HeldLoader loader("bets");
  Callers round_1(flights);
  Callers round_2(flights);
  Shard a;
  Shard b;
  {
    round_1.spawn(a, "bets:list:3:limit=20", loader.load());
    round_1.spawn(b, "bets:list:3:limit=20", loader.load());
    ASSERT_TRUE(wait_until([&] { return round_1.joined() == 2; }));
    ASSERT_TRUE(a.settle());
    ASSERT_TRUE(b.settle());
    loader.open();
    ASSERT_TRUE(round_1.wait_all());
    EXPECT_EQ(**round_1.outcomes()[0].result, "bets #1");
    EXPECT_EQ(**round_1.outcomes()[1].result, "bets #1");
  }
  EXPECT_EQ(flights.in_flight(), 0u);
  {
    round_2.spawn(b, "bets:list:3:limit=20", loader.load());
    ASSERT_TRUE(wait_until([&] { return loader.held() == 1; }));
    EXPECT_EQ(loader.runs(), 2) << "a finished load must not answer later callers";
    loader.open();
    ASSERT_TRUE(round_2.wait_all());
    ASSERT_TRUE(round_2.outcomes()[0].result->ok());
    EXPECT_EQ(**round_2.outcomes()[0].result, "bets #2");
  }
}

TEST(SingleFlight, AnExceptionReachesTheLeaderAndFollowersGetAnError) {
  SingleFlight flights;
  HeldLoader loader("never");
  Callers leader(flights);
  Callers followers(flights);
  Callers after(flights);
  Shard a;
  Shard b;
  leader.spawn(a, "bets_summary:7:all", loader.load());
  // The leader's load is running (held) before anyone else asks.
  ASSERT_TRUE(wait_until([&] { return loader.held() == 1; }));
  for (int i = 0; i < kCallersPerShard; ++i) {
    followers.spawn(a, "bets_summary:7:all", loader.load());
    followers.spawn(b, "bets_summary:7:all", loader.load());
  }
  ASSERT_TRUE(wait_until([&] { return followers.joined() == 2 * kCallersPerShard; }));
  ASSERT_TRUE(a.settle());
  ASSERT_TRUE(b.settle());
  EXPECT_EQ(loader.runs(), 1);

  loader.open(/*throw_exception=*/true);
  ASSERT_TRUE(leader.wait_all());
  ASSERT_TRUE(followers.wait_all());
  EXPECT_EQ(leader.outcomes()[0].exception, "the loader failed");
  EXPECT_FALSE(leader.outcomes()[0].result.has_value());
  for (const auto& outcome : followers.outcomes()) {
    EXPECT_EQ(outcome.exception, "") << "the exception belongs to the leader alone";
    ASSERT_TRUE(outcome.result.has_value());
    EXPECT_FALSE(outcome.result->ok());
  }
  EXPECT_EQ(loader.runs(), 1);
  EXPECT_EQ(flights.in_flight(), 0u);

  // The failure is not remembered: the next caller loads afresh.
  after.spawn(b, "bets_summary:7:all", loader.load());
  ASSERT_TRUE(wait_until([&] { return loader.held() == 1; }));
  loader.open();
  ASSERT_TRUE(after.wait_all());
  ASSERT_TRUE(after.outcomes()[0].result.has_value() && after.outcomes()[0].result->ok());
  EXPECT_EQ(**after.outcomes()[0].result, "never #2");
}

TEST(SingleFlight, AnErrorResultReachesEveryCaller) {
  SingleFlight flights;
  HeldLoader loader("unused");
  Callers callers(flights);
  Shard a;
  Shard b;
  for (int i = 0; i < 4; ++i) {
    callers.spawn(a, "k", loader.load());
    callers.spawn(b, "k", loader.load());
  }
  ASSERT_TRUE(wait_until([&] { return callers.joined() == 8; }));
  ASSERT_TRUE(a.settle());
  ASSERT_TRUE(b.settle());
  loader.open(/*throw_exception=*/false, /*fail=*/true);
  ASSERT_TRUE(callers.wait_all());
  EXPECT_EQ(loader.runs(), 1);
  for (const auto& outcome : callers.outcomes()) {
    ASSERT_TRUE(outcome.result.has_value());
    ASSERT_FALSE(outcome.result->ok());
    EXPECT_EQ(outcome.result->error().detail, "the database is away");
  }
}

}  // namespace
}  // namespace betsdb
