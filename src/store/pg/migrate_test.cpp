#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/test_support.hpp"

namespace betsdb::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::DatabaseTest;

// Not idempotent on purpose: running one twice fails or double-counts.
const std::vector<Migration> kTestMigrations = {
    {2, "0002_add_rows",
     "INSERT INTO widgets (label) VALUES ('a'), ('b');"
     "INSERT INTO runs VALUES (2)"},
    {1, "0001_create",
     "CREATE TABLE widgets (id bigserial PRIMARY KEY, label text NOT NULL);"
     "CREATE TABLE runs (version int NOT NULL);"
     "INSERT INTO runs VALUES (1)"},
};

// Each test migrates its own schema, leaving the real schema_migrations alone.
class MigrateTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    schema_url_ = testing::with_search_path(url_, create_schema());
  }
  std::shared_ptr<Pool> make_pool(asio::io_context& io, std::size_t size = 1) {
    PoolConfig config;
    config.conninfo = schema_url_;
    config.size = size;
    return Pool::create(io.get_executor(), config);
  }
  std::string schema_url_;
};

asio::awaitable<std::int64_t> scalar(Pool& pool, std::string_view sql) {
  auto rows = co_await pool.execute_sql(sql);
  EXPECT_TRUE(rows.ok()) << rows.error().detail;
  co_return rows.ok() ? (*rows)[0].get<std::int64_t>(0) : -1;
}

TEST_F(MigrateTest, AppliesEachMigrationOnceInVersionOrder) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto first = co_await migrate(*pool, kTestMigrations);  // 0002 needs 0001's tables
    PG_CO_ASSERT_OK(first);
    EXPECT_EQ(*first, 2);
    auto second = co_await migrate(*pool, kTestMigrations);
    PG_CO_ASSERT_OK(second);
    EXPECT_EQ(*second, 0);

    EXPECT_EQ(co_await scalar(*pool, "SELECT count(*) FROM widgets"), 2);
    EXPECT_EQ(co_await scalar(*pool, "SELECT count(*) FROM runs"), 2);
    EXPECT_EQ(co_await scalar(*pool,
                              "SELECT count(*) FROM schema_migrations"
                              " WHERE (version, name) IN ((1, '0001_create'), (2, "
                              "'0002_add_rows')) AND applied_at <= now()"),
              2);
    pool->close();
  });
}

TEST_F(MigrateTest, ConcurrentMigratorsApplyEachMigrationExactlyOnce) {
  asio::io_context io;
  auto pool_a = make_pool(io);
  auto pool_b = make_pool(io);
  int total_applied = 0, finished = 0;
  const auto migrator = [&](std::shared_ptr<Pool> pool) {
    return [&, pool]() -> asio::awaitable<void> {
      auto applied = co_await migrate(*pool, kTestMigrations);
      if (applied.ok())
        total_applied += *applied;
      else
        ADD_FAILURE() << applied.error().detail;
      if (++finished == 2) {
        EXPECT_EQ(co_await scalar(*pool, "SELECT count(*) FROM runs"), 2);
        EXPECT_EQ(co_await scalar(*pool, "SELECT count(*) FROM schema_migrations"), 2);
        pool_a->close();
        pool_b->close();
      }
    };
  };
  asio::co_spawn(io, migrator(pool_a), asio::detached);
  asio::co_spawn(io, migrator(pool_b), asio::detached);
  io.run_for(30s);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(total_applied, 2);
}

TEST_F(MigrateTest, FailedMigrationLeavesNoTraceAndReportsWhichOne) {
  const std::vector<Migration> broken = {
      {1, "0001_ok", "CREATE TABLE fine (x int)"},
      {2, "0002_bad", "CREATE TABLE half (x int); SELECT no_such_function()"},
  };
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto result = co_await migrate(*pool, broken);
    PG_CO_ASSERT(!result.ok());
    EXPECT_NE(result.error().detail.find("0002_bad"), std::string::npos) << result.error().detail;
    EXPECT_EQ(co_await scalar(*pool, "SELECT count(*) FROM schema_migrations"), 1);
    EXPECT_EQ(co_await scalar(*pool,
                              "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"
                              " AND schemaname = current_schema()"),
              0);
    pool->close();
  });
}

}  // namespace
}  // namespace betsdb::pg
