#include "store/pg/pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "store/pg/errors.hpp"
#include "store/pg/test_support.hpp"

namespace betsdb::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::DatabaseTest;
using testing::kNoServerUrl;

class PoolTest : public DatabaseTest {
 protected:
  std::shared_ptr<Pool> make_pool(asio::io_context& io, std::size_t size) {
    PoolConfig config;
    config.conninfo = url_;
    config.size = size;
    return Pool::create(io.get_executor(), config);
  }
};

asio::awaitable<void> sleep_for(Clock::duration how_long) {
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

TEST_F(PoolTest, ExecuteRunsAStatement) {
  asio::io_context io;
  auto pool = make_pool(io, 2);
  testing::run(io, [&]() -> asio::awaitable<void> {
    static constexpr Statement kSquare{"pool_test_square", "SELECT $1::int * $1::int"};
    auto rows = co_await pool->execute(kSquare, params(12));
    PG_CO_ASSERT_OK(rows);
    EXPECT_EQ((*rows)[0].get<int>(0), 144);
    EXPECT_EQ(pool->size(), 1u);  // opened lazily, one at a time
    EXPECT_EQ(pool->idle(), 1u);
    EXPECT_EQ(pool->in_use(), 0u);
    pool->close();
  });
}

TEST_F(PoolTest, ExhaustedPoolMakesAcquirersWaitInsteadOfFailing) {
  asio::io_context io;
  auto pool = make_pool(io, 2);
  constexpr int kWorkers = 10;
  int succeeded = 0, finished = 0;
  std::size_t most_in_use = 0, most_waiting = 0;
  const auto worker = [&]() -> asio::awaitable<void> {
    auto connection = co_await pool->acquire();
    most_in_use = std::max(most_in_use, pool->in_use());
    most_waiting = std::max(most_waiting, pool->waiting());
    if (connection.ok()) {
      auto slept = co_await (*connection)->execute_sql("SELECT pg_sleep(0.05)");
      if (slept.ok())
        ++succeeded;
      else
        ADD_FAILURE() << slept.error().detail;
    } else {
      ADD_FAILURE() << connection.error().detail;
    }
    if (++finished == kWorkers) pool->close();
  };
  for (int i = 0; i < kWorkers; ++i) asio::co_spawn(io, worker, asio::detached);
  io.run_for(30s);
  EXPECT_EQ(finished, kWorkers);
  EXPECT_EQ(succeeded, kWorkers);
  EXPECT_EQ(most_in_use, 2u);
  EXPECT_GE(most_waiting, 1u);  // they really queued
  EXPECT_EQ(pool->counters().connects, 2u);
  EXPECT_EQ(pool->counters().acquire_timeouts, 0u);
}

TEST_F(PoolTest, AcquireTimesOutWhenNoConnectionComesBack) {
  asio::io_context io;
  PoolConfig config;
  config.conninfo = url_;
  config.size = 1;
  config.acquire_timeout = 150ms;
  auto pool = Pool::create(io.get_executor(), config);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto held = co_await pool->acquire();
    PG_CO_ASSERT_OK(held);
    const auto started = Clock::now();
    auto second = co_await pool->acquire();
    const auto waited = Clock::now() - started;
    PG_CO_ASSERT(!second.ok());
    EXPECT_EQ(second.error().code, Errc::service_unavailable);
    EXPECT_GE(waited, config.acquire_timeout);
    EXPECT_LT(waited, 1s);
    EXPECT_EQ(pool->counters().acquire_timeouts, 1u);
    EXPECT_EQ(pool->waiting(), 0u);
    pool->close();
  });
}

TEST_F(PoolTest, WaiterGetsTheConnectionAHolderReturns) {
  asio::io_context io;
  auto pool = make_pool(io, 1);
  int backend_first = 0, backend_second = 0;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto held = co_await pool->acquire();
    PG_CO_ASSERT_OK(held);
    backend_first = (*held)->backend_pid();
    asio::co_spawn(
        io,
        [&, connection = std::move(held).value()]() mutable -> asio::awaitable<void> {
          co_await sleep_for(50ms);
          PooledConnection returned = std::move(connection);  // destroyed at scope end
        },
        asio::detached);
    auto second = co_await pool->acquire();
    PG_CO_ASSERT_OK(second);
    backend_second = (*second)->backend_pid();
    EXPECT_EQ(pool->counters().connects, 1u);
    pool->close();
  });
  EXPECT_EQ(backend_first, backend_second);
}

TEST_F(PoolTest, QueryTimeoutIsUnavailableAndThePoolKeepsWorking) {
  asio::io_context io;
  PoolConfig config;
  config.conninfo = url_;
  config.size = 1;
  config.query_timeout = 200ms;
  auto pool = Pool::create(io.get_executor(), config);
  testing::run(io, [&]() -> asio::awaitable<void> {
    static constexpr Statement kSleep{"pool_test_sleep", "SELECT pg_sleep($1::float8)"};
    const auto started = Clock::now();
    auto slow = co_await pool->execute(kSleep, params(5.0));
    PG_CO_ASSERT(!slow.ok());
    EXPECT_EQ(slow.error().code, Errc::service_unavailable);
    EXPECT_LT(Clock::now() - started, 2s);
    auto fine = co_await pool->execute(kSleep, params(0.0));
    PG_CO_ASSERT_OK(fine);
    pool->close();
  });
}

TEST_F(PoolTest, ConnectionClosedByTheServerIsReplacedTransparently) {
  asio::io_context io;
  auto pool = make_pool(io, 1);
  testing::run(io, [&]() -> asio::awaitable<void> {
    int victim_pid = 0;
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      victim_pid = (*connection)->backend_pid();
    }
    {
      auto killer = co_await Connection::connect(io.get_executor(), url_, {});
      PG_CO_ASSERT_OK(killer);
      static constexpr Statement kTerminate{"pool_test_terminate",
                                            "SELECT pg_terminate_backend($1)"};
      auto killed = co_await (*killer)->execute(kTerminate, params(victim_pid));
      PG_CO_ASSERT_OK(killed);
    }
    // Let the termination reach our socket; the pool must notice it unaided.
    co_await sleep_for(100ms);
    static constexpr Statement kPid{"pool_test_pid", "SELECT pg_backend_pid()"};
    auto rows = co_await pool->execute(kPid, {});
    PG_CO_ASSERT_OK(rows);
    EXPECT_NE((*rows)[0].get<int>(0), victim_pid);
    EXPECT_EQ(pool->counters().discarded, 1u);
    EXPECT_EQ(pool->size(), 1u);
    pool->close();
  });
}

TEST_F(PoolTest, NoServerIsUnavailableQuickly) {
  asio::io_context io;
  PoolConfig config;
  config.conninfo = kNoServerUrl;
  config.size = 2;
  auto pool = Pool::create(io.get_executor(), config);
  testing::run(io, [&]() -> asio::awaitable<void> {
    const auto started = Clock::now();
    static constexpr Statement kOne{"pool_test_one", "SELECT 1"};
    auto rows = co_await pool->execute(kOne, {});
    PG_CO_ASSERT(!rows.ok());
    EXPECT_EQ(rows.error().code, Errc::service_unavailable);
    EXPECT_LT(Clock::now() - started, 1s);
    EXPECT_EQ(pool->size(), 0u);
    EXPECT_EQ(pool->counters().connect_failures, 1u);
  });
}

TEST_F(PoolTest, CloseFailsWaitersAndLetsRunReturn) {
  asio::io_context io;
  auto pool = make_pool(io, 1);
  bool waiter_failed_unavailable = false;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto held = co_await pool->acquire();
    PG_CO_ASSERT_OK(held);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto waiting = co_await pool->acquire();
          waiter_failed_unavailable =
              !waiting.ok() && waiting.error().code == Errc::service_unavailable;
        },
        asio::detached);
    co_await sleep_for(20ms);
    EXPECT_EQ(pool->waiting(), 1u);
    pool->close();
    auto after = co_await pool->acquire();
    EXPECT_FALSE(after.ok());
  });  // returns only if nothing (timers, sockets) is left pending
  EXPECT_TRUE(waiter_failed_unavailable);
  EXPECT_EQ(pool->size(), 0u);
}

}  // namespace
}  // namespace betsdb::pg

namespace betsdb::pg {
namespace {

// A connection whose server became read-only (a primary demoted, or a
// multi-host URL that landed on a standby) answers 25006 to every write: it
// is dropped, so the next acquire connects again and can find the primary.
TEST_F(PoolTest, AConnectionThatMeetsAReadOnlyServerIsDiscarded) {
  asio::io_context io;
  auto pool = make_pool(io, 1);
  testing::run(io, [&]() -> asio::awaitable<void> {
    int first_pid = 0;
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      first_pid = (*connection)->backend_pid();
      // What a standby says to writes, on this session only.
      auto set = co_await (*connection)
                     ->execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
      PG_CO_ASSERT_OK(set);
      auto write = co_await (*connection)->execute_sql("CREATE TABLE pool_test_read_only (x int)");
      PG_CO_ASSERT(!write.ok());
      EXPECT_EQ(sqlstate_of(write.error()), "25006");
      EXPECT_TRUE(write.error().is(Errc::service_unavailable));
      EXPECT_TRUE((*connection)->broken());
    }
    EXPECT_EQ(pool->counters().discarded, 1u);
    auto next = co_await pool->acquire();
    PG_CO_ASSERT_OK(next);
    EXPECT_NE((*next)->backend_pid(), first_pid) << "the read-only connection was reused";
    pool->close();
  });
}

// A statement the server never finished in time: the client gives up, drops
// the connection, and asks the server to cancel it (PQcancel, off the loop),
// so the backend does not hold its locks (or wait for a standby) forever.
TEST_F(PoolTest, AClientSideTimeoutCancelsTheStatementOnTheServer) {
  asio::io_context io;
  PoolConfig config;
  config.conninfo = url_;
  config.size = 1;
  config.query_timeout = 300ms;
  auto pool = Pool::create(io.get_executor(), config);
  testing::run(io, [&]() -> asio::awaitable<void> {
    int pid = 0;
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      pid = (*connection)->backend_pid();
      // statement_timeout off for this session: only the client's deadline is left.
      auto unlimited = co_await (*connection)->execute_sql("SET statement_timeout = 0");
      PG_CO_ASSERT_OK(unlimited);
      auto slept = co_await (*connection)->execute_sql("SELECT pg_sleep(30)");
      PG_CO_ASSERT(!slept.ok());
      EXPECT_TRUE(slept.error().is(Errc::service_unavailable));
      EXPECT_TRUE(slept.error().outcome_unknown);
    }
    // The backend stops sleeping: cancelled, and then gone with its connection.
    const std::string still_there =
        "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
        " AND query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'";
    for (int i = 0; i < 200; ++i) {
      auto rows = co_await pool->execute_sql(still_there);
      PG_CO_ASSERT_OK(rows);
      if ((*rows)[0].get<std::int64_t>(0) == 0) break;
      co_await sleep_for(10ms);
    }
    auto rows = co_await pool->execute_sql(still_there);
    PG_CO_ASSERT_OK(rows);
    EXPECT_EQ((*rows)[0].get<std::int64_t>(0), 0) << "the timed-out statement kept running";
    pool->close();
  });
}

}  // namespace
}  // namespace betsdb::pg
