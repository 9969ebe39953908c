#include "store/pg/connection.hpp"

#include <gtest/gtest.h>

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

class ConnectionTest : public DatabaseTest {};

TEST_F(ConnectionTest, PreparesOnFirstExecuteAndReusesTheStatement) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    static constexpr Statement kAdd{"conn_test_add", "SELECT $1::bigint + $2::bigint"};
    static constexpr Statement kCountPrepared{
        "conn_test_count_prepared", "SELECT count(*) FROM pg_prepared_statements WHERE name = $1"};

    auto first = co_await (*conn)->execute(kAdd, params(1, 2));
    PG_CO_ASSERT_OK(first);
    EXPECT_EQ((*first)[0].get<std::int64_t>(0), 3);
    auto second = co_await (*conn)->execute(kAdd, params(40, 2));
    PG_CO_ASSERT_OK(second);
    EXPECT_EQ((*second)[0].get<std::int64_t>(0), 42);

    // Prepared once on the server, under the statement's name.
    auto prepared = co_await (*conn)->execute(kCountPrepared, params(kAdd.name));
    PG_CO_ASSERT_OK(prepared);
    EXPECT_EQ((*prepared)[0].get<std::int64_t>(0), 1);
  });
}

TEST_F(ConnectionTest, PassesNullParametersAndReadsThemBack) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    static constexpr Statement kEcho{"conn_test_echo", "SELECT $1::text, $2::bigint IS NULL"};
    auto rows = co_await (*conn)->execute(kEcho, params(std::nullopt, std::optional<int>()));
    PG_CO_ASSERT_OK(rows);
    EXPECT_TRUE((*rows)[0].is_null(0));
    EXPECT_TRUE((*rows)[0].get<bool>(1));
  });
}

TEST_F(ConnectionTest, FailedPrepareIsNotRememberedAndConnectionStaysUsable) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    static constexpr Statement kBroken{"conn_test_broken", "SELEC 1"};
    for (int attempt = 0; attempt < 2; ++attempt) {  // the second attempt prepares again
      auto failed = co_await (*conn)->execute(kBroken, {});
      PG_CO_ASSERT(!failed.ok());
      EXPECT_EQ(failed.error().code, Errc::internal);
      EXPECT_EQ(sqlstate_of(failed.error()), "42601");  // syntax_error
    }
    EXPECT_FALSE((*conn)->broken());
    static constexpr Statement kOne{"conn_test_one", "SELECT 1"};
    auto ok = co_await (*conn)->execute(kOne, {});
    PG_CO_ASSERT_OK(ok);
    EXPECT_EQ((*ok)[0].get<int>(0), 1);
  });
}

TEST_F(ConnectionTest, UniqueViolationIsConflictNamingTheConstraint) {
  const std::string table = create_table("id bigint PRIMARY KEY, email text NOT NULL");
  const std::string constraint = table + "_email_key";
  testing::run_blocking_sql(
      url_, "ALTER TABLE " + table + " ADD CONSTRAINT " + constraint + " UNIQUE (email)");
  const std::string insert_sql = "INSERT INTO " + table + " (id, email) VALUES ($1, $2)";
  const Statement insert{"conn_test_insert", insert_sql};
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    auto first = co_await (*conn)->execute(insert, params(1, "a@example.com"));
    PG_CO_ASSERT_OK(first);
    EXPECT_EQ(first->affected(), 1);
    auto duplicate = co_await (*conn)->execute(insert, params(2, "a@example.com"));
    PG_CO_ASSERT(!duplicate.ok());
    EXPECT_EQ(duplicate.error().code, Errc::conflict);
    EXPECT_EQ(duplicate.error().constraint, constraint);
    EXPECT_EQ(sqlstate_of(duplicate.error()), "23505");
    EXPECT_NE(duplicate.error().detail.find("duplicate key"), std::string::npos)
        << duplicate.error().detail;
    EXPECT_FALSE((*conn)->broken());
  });
}

TEST_F(ConnectionTest, ExecuteSqlRunsSeveralStatementsAndReturnsTheLast) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    auto rows = co_await (*conn)->execute_sql(
        "CREATE TEMP TABLE multi (x int); INSERT INTO multi VALUES (1), (2); SELECT sum(x) FROM "
        "multi");
    PG_CO_ASSERT_OK(rows);
    EXPECT_EQ((*rows)[0].get<std::int64_t>(0), 3);
    auto failed = co_await (*conn)->execute_sql("SELECT 1; SELECT * FROM no_such_table_xyz");
    PG_CO_ASSERT(!failed.ok());
    EXPECT_EQ(sqlstate_of(failed.error()), "42P01");  // undefined_table
  });
}

TEST_F(ConnectionTest, ConnectingToAPortWithoutServerIsUnavailableQuickly) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    const auto started = Clock::now();
    auto conn = co_await Connection::connect(io.get_executor(), kNoServerUrl, {});
    PG_CO_ASSERT(!conn.ok());
    EXPECT_EQ(conn.error().code, Errc::service_unavailable);
    EXPECT_LT(Clock::now() - started, 1s);
    EXPECT_NE(conn.error().detail.find("cannot connect"), std::string::npos) << conn.error().detail;
  });
}

TEST_F(ConnectionTest, ServerStatementTimeoutIsUnavailableAndKeepsTheConnection) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    ConnectionOptions options;
    options.query_timeout = 200ms;
    auto conn = co_await Connection::connect(io.get_executor(), url_, options);
    PG_CO_ASSERT_OK(conn);
    const auto started = Clock::now();
    auto slow = co_await (*conn)->execute_sql("SELECT pg_sleep(3)");
    PG_CO_ASSERT(!slow.ok());
    EXPECT_EQ(slow.error().code, Errc::service_unavailable);
    EXPECT_EQ(sqlstate_of(slow.error()), "57014");  // canceled by statement_timeout
    EXPECT_LT(Clock::now() - started, 2s);
    EXPECT_FALSE((*conn)->broken());
    auto next = co_await (*conn)->execute_sql("SELECT 1");
    PG_CO_ASSERT_OK(next);
  });
}

TEST_F(ConnectionTest, ClientDeadlineBreaksTheConnectionWhenTheServerDoesNotAnswer) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    ConnectionOptions options;
    options.query_timeout = 100ms;
    auto conn = co_await Connection::connect(io.get_executor(), url_, options);
    PG_CO_ASSERT_OK(conn);
    // Stands in for an unresponsive server: no server-side cancel.
    auto unlimited = co_await (*conn)->execute_sql("SET statement_timeout = 0");
    PG_CO_ASSERT_OK(unlimited);
    const auto started = Clock::now();
    auto slow = co_await (*conn)->execute_sql("SELECT pg_sleep(2)");
    const auto elapsed = Clock::now() - started;
    PG_CO_ASSERT(!slow.ok());
    EXPECT_EQ(slow.error().code, Errc::service_unavailable);
    EXPECT_NE(slow.error().detail.find("timed out"), std::string::npos) << slow.error().detail;
    EXPECT_GE(elapsed, options.query_timeout);
    EXPECT_LT(elapsed, 1s);
    EXPECT_TRUE((*conn)->broken());
    auto refused = co_await (*conn)->execute_sql("SELECT 1");
    PG_CO_ASSERT(!refused.ok());
    EXPECT_EQ(refused.error().code, Errc::service_unavailable);
  });
}

TEST_F(ConnectionTest, SlowQueryDoesNotBlockTheLoop) {
  asio::io_context io;
  Clock::time_point timer_fired{}, query_done{};
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    const auto started = Clock::now();
    asio::steady_timer timer(io, 10ms);
    timer.async_wait([&](const boost::system::error_code&) { timer_fired = Clock::now(); });
    auto slept = co_await (*conn)->execute_sql("SELECT pg_sleep(0.3)");
    query_done = Clock::now();
    PG_CO_ASSERT_OK(slept);
    PG_CO_ASSERT(timer_fired != Clock::time_point{});
    EXPECT_LT(timer_fired - started, 100ms);
    EXPECT_GE(query_done - started, 300ms);
    EXPECT_LT(timer_fired, query_done - 150ms);
  });
}

TEST_F(ConnectionTest, LostConnectionIsUnavailableAndBroken) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto victim = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(victim);
    auto killer = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(killer);
    static constexpr Statement kTerminate{"conn_test_terminate", "SELECT pg_terminate_backend($1)"};
    auto killed = co_await (*killer)->execute(kTerminate, params((*victim)->backend_pid()));
    PG_CO_ASSERT_OK(killed);
    auto after = co_await (*victim)->execute_sql("SELECT 1");
    PG_CO_ASSERT(!after.ok());
    EXPECT_EQ(after.error().code, Errc::service_unavailable) << after.error().detail;
    EXPECT_TRUE((*victim)->broken());
  });
}

}  // namespace
}  // namespace betsdb::pg
