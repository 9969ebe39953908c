#include "store/pg/transaction.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "store/pg/errors.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/test_support.hpp"

namespace betsdb::pg {
namespace {

namespace asio = boost::asio;
using testing::DatabaseTest;

class TransactionTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    table_ = create_table("id bigint PRIMARY KEY, note text");
    insert_sql_ = "INSERT INTO " + table_ + " (id, note) VALUES ($1, $2)";
    count_sql_ = "SELECT count(*) FROM " + table_ + " WHERE id = $1";
  }
  // A pool of one connection, so "the connection is reused" is guaranteed.
  std::shared_ptr<Pool> make_pool(asio::io_context& io) {
    PoolConfig config;
    config.conninfo = url_;
    config.size = 1;
    return Pool::create(io.get_executor(), config);
  }
  asio::awaitable<std::int64_t> count(Pool& pool, std::int64_t id) {
    auto rows = co_await pool.execute(count_statement(), params(id));
    EXPECT_TRUE(rows.ok()) << rows.error().detail;
    co_return rows.ok() ? (*rows)[0].get<std::int64_t>(0) : -1;
  }
  Statement insert_statement() const { return {"tx_test_insert", insert_sql_}; }
  Statement count_statement() const { return {"tx_test_count", count_sql_}; }

  std::string table_, insert_sql_, count_sql_;
};

TEST_F(TransactionTest, CommitMakesTheWorkVisible) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      auto tx = co_await Transaction::begin(*connection);
      PG_CO_ASSERT_OK(tx);
      const Statement insert = insert_statement();
      auto first = co_await tx->execute(insert, params(1, "one"));
      PG_CO_ASSERT_OK(first);
      auto second = co_await tx->execute(insert, params(2, std::nullopt));
      PG_CO_ASSERT_OK(second);
      EXPECT_EQ((*connection)->transaction_status(), PQTRANS_INTRANS);
      auto committed = co_await tx->commit();
      PG_CO_ASSERT_OK(committed);
      EXPECT_EQ((*connection)->transaction_status(), PQTRANS_IDLE);
    }
    EXPECT_EQ(co_await count(*pool, 1), 1);
    EXPECT_EQ(co_await count(*pool, 2), 1);
    EXPECT_EQ(pool->counters().rollbacks, 0u);
    pool->close();
  });
}

TEST_F(TransactionTest, DroppedTransactionRollsBackAndTheConnectionIsReusedCleanly) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    int first_backend = 0;
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      first_backend = (*connection)->backend_pid();
      auto tx = co_await Transaction::begin(*connection);
      PG_CO_ASSERT_OK(tx);
      const Statement insert = insert_statement();
      auto inserted = co_await tx->execute(insert, params(7, "kept?"));
      PG_CO_ASSERT_OK(inserted);
      auto duplicate = co_await tx->execute(insert, params(7, "again"));
      PG_CO_ASSERT(!duplicate.ok());
      EXPECT_EQ(duplicate.error().code, Errc::conflict);
      EXPECT_EQ((*connection)->transaction_status(), PQTRANS_INERROR);
    }  // no commit: tx, then the connection, go out of scope

    EXPECT_EQ(co_await count(*pool, 7), 0);  // the insert was rolled back
    auto connection = co_await pool->acquire();
    PG_CO_ASSERT_OK(connection);
    EXPECT_EQ((*connection)->backend_pid(), first_backend);  // same connection, reused
    EXPECT_EQ((*connection)->transaction_status(), PQTRANS_IDLE);
    auto works = co_await (*connection)->execute(insert_statement(), params(8, "after"));
    PG_CO_ASSERT_OK(works);
    EXPECT_EQ(pool->counters().rollbacks, 1u);
    EXPECT_EQ(pool->counters().discarded, 0u);
    pool->close();
  });
}

TEST_F(TransactionTest, ConnectionReturnedMidTransactionIsRolledBackWithoutWaitingForReuse) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    int backend = 0;
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      backend = (*connection)->backend_pid();
      auto tx = co_await Transaction::begin(*connection);
      PG_CO_ASSERT_OK(tx);
      auto inserted = co_await tx->execute(insert_statement(), params(11, "locks the key"));
      PG_CO_ASSERT_OK(inserted);
    }
    // Nobody uses the pool from here on: the ROLLBACK must come from the pool itself.
    asio::steady_timer pause(io);
    for (int i = 0; i < 100 && pool->idle() == 0; ++i) {
      pause.expires_after(std::chrono::milliseconds(10));
      (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_EQ(pool->idle(), 1u);
    EXPECT_EQ(pool->counters().rollbacks, 1u);

    auto observer = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(observer);
    static constexpr Statement kState{"tx_test_state",
                                      "SELECT state FROM pg_stat_activity WHERE pid = $1"};
    auto state = co_await (*observer)->execute(kState, params(backend));
    PG_CO_ASSERT_OK(state);
    PG_CO_ASSERT(state->size() == 1u);
    EXPECT_EQ((*state)[0].get<std::string>(0), "idle");  // not "idle in transaction"
    pool->close();
  });
}

TEST_F(TransactionTest, DroppedTransactionOnAKeptConnectionRollsBackBeforeTheNextStatement) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto connection = co_await pool->acquire();
    PG_CO_ASSERT_OK(connection);
    {
      auto tx = co_await Transaction::begin(*connection);
      PG_CO_ASSERT_OK(tx);
      auto inserted = co_await tx->execute(insert_statement(), params(9, "dropped"));
      PG_CO_ASSERT_OK(inserted);
    }
    // Same connection, outside any transaction now.
    auto counted = co_await (*connection)->execute(count_statement(), params(9));
    PG_CO_ASSERT_OK(counted);
    EXPECT_EQ((*counted)[0].get<std::int64_t>(0), 0);
    EXPECT_EQ((*connection)->transaction_status(), PQTRANS_IDLE);
    pool->close();
  });
}

TEST_F(TransactionTest, CommitAfterAFailedStatementFailsAndRollsBack) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    {
      auto connection = co_await pool->acquire();
      PG_CO_ASSERT_OK(connection);
      auto tx = co_await Transaction::begin(*connection);
      PG_CO_ASSERT_OK(tx);
      auto inserted = co_await tx->execute(insert_statement(), params(10, "x"));
      PG_CO_ASSERT_OK(inserted);
      auto failed = co_await tx->execute_sql("SELECT 1 / 0");
      PG_CO_ASSERT(!failed.ok());
      EXPECT_EQ(sqlstate_of(failed.error()), "22012");  // division_by_zero
      auto committed = co_await tx->commit();
      EXPECT_FALSE(committed.ok());
      auto again = co_await tx->commit();
      EXPECT_FALSE(again.ok());  // already over
    }
    EXPECT_EQ(co_await count(*pool, 10), 0);
    pool->close();
  });
}

TEST_F(TransactionTest, IsolationLevelIsApplied) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto connection = co_await pool->acquire();
    PG_CO_ASSERT_OK(connection);
    auto tx = co_await Transaction::begin(*connection, Isolation::serializable);
    PG_CO_ASSERT_OK(tx);
    auto level = co_await tx->execute_sql("SHOW transaction_isolation");
    PG_CO_ASSERT_OK(level);
    EXPECT_EQ((*level)[0].get<std::string>(0), "serializable");
    auto rolled_back = co_await tx->rollback();
    PG_CO_ASSERT_OK(rolled_back);
    EXPECT_EQ((*connection)->transaction_status(), PQTRANS_IDLE);
    pool->close();
  });
}

TEST_F(TransactionTest, TransactionWithoutStatementsCommitsAndBeginTwiceIsRefused) {
  asio::io_context io;
  auto pool = make_pool(io);
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto connection = co_await pool->acquire();
    PG_CO_ASSERT_OK(connection);
    auto tx = co_await Transaction::begin(*connection);
    PG_CO_ASSERT_OK(tx);
    auto nested = co_await Transaction::begin(*connection);
    EXPECT_FALSE(nested.ok());
    auto committed = co_await tx->commit();
    PG_CO_ASSERT_OK(committed);
    EXPECT_EQ((*connection)->transaction_status(), PQTRANS_IDLE);
    pool->close();
  });
}

}  // namespace
}  // namespace betsdb::pg
