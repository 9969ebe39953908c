// A fixture for store tests that need the whole schema: a schema of their
// own, migrated, and helpers to run a coroutine on a pool of it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/test_support.hpp"

namespace betsdb::pg::testing {

class MigratedSchemaTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    schema_url_ = with_search_path(url_, create_schema());
    on_pool([](const std::shared_ptr<Pool>& db) -> boost::asio::awaitable<void> {
      auto applied = co_await migrate(*db, embedded_migrations());
      PG_CO_ASSERT_OK(applied);
    });
  }

  // A pool of `size` connections to the test's schema, on `io`.
  std::shared_ptr<Pool> pool_on(boost::asio::io_context& io, std::size_t size) const {
    PoolConfig config;
    config.conninfo = schema_url_;
    config.size = size;
    return Pool::create(io.get_executor(), config);
  }

  // Runs `body(pool)`, a coroutine, to its end on a pool of one connection.
  template <class Body>
  void on_pool(Body body) {
    boost::asio::io_context io;
    auto pool = pool_on(io, 1);
    run(io, [&]() -> boost::asio::awaitable<void> {
      co_await body(pool);
      pool->close();
    });
  }

  // The first column of the first row of `sql`, an integer.
  std::int64_t count(const std::string& sql) {
    std::int64_t n = -1;
    on_pool([&](const std::shared_ptr<Pool>& db) -> boost::asio::awaitable<void> {
      auto rows = co_await db->execute_sql(sql);
      PG_CO_ASSERT_OK(rows);
      n = (*rows)[0].get<std::int64_t>(0);
    });
    return n;
  }

  std::string schema_url_;
};

}  // namespace betsdb::pg::testing
