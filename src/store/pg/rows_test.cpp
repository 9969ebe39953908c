#include "store/pg/rows.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "store/pg/connection.hpp"
#include "store/pg/test_support.hpp"

namespace betsdb::pg {
namespace {

namespace asio = boost::asio;
using testing::DatabaseTest;

class RowsTest : public DatabaseTest {};

TEST_F(RowsTest, ReadsTypedValuesAndNulls) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    auto rows = co_await (*conn)->execute_sql(
        "SELECT 9007199254740993::bigint AS id, 'héllo'::text AS name, true AS flag,"
        " NULL::int AS missing, 2.5::float8 AS ratio, -7::int AS small"
        " UNION ALL "
        "SELECT -1, '', false, 3, 0, 0");
    PG_CO_ASSERT_OK(rows);
    PG_CO_ASSERT(rows->size() == 2u);
    EXPECT_EQ(rows->columns(), 6);

    const Row first = (*rows)[0];
    EXPECT_EQ(first.get<std::int64_t>(0), 9007199254740993);
    EXPECT_EQ(first.get<std::string>(1), "héllo");
    EXPECT_EQ(first.get<std::string_view>(1), "héllo");
    EXPECT_TRUE(first.get<bool>(2));
    EXPECT_TRUE(first.is_null(3));
    EXPECT_EQ(first.get<std::optional<int>>(3), std::nullopt);
    EXPECT_EQ(first.get<double>(4), 2.5);
    EXPECT_EQ(first.get<int>(5), -7);
    EXPECT_EQ(first.get<std::optional<std::int64_t>>(0), 9007199254740993);

    const Row second = (*rows)[1];
    EXPECT_FALSE(second.is_null(1));  // '' is not NULL
    EXPECT_EQ(second.get<std::string>(1), "");
    EXPECT_FALSE(second.get<bool>(2));
    EXPECT_EQ(second.get<std::optional<int>>(3), 3);
  });
}

TEST_F(RowsTest, FindsColumnsByNameAndIterates) {
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    auto rows = co_await (*conn)->execute_sql(
        "SELECT n AS id, n * 10 AS \"Score\" FROM generate_series(1, 3) AS n");
    PG_CO_ASSERT_OK(rows);
    EXPECT_EQ(rows->column("id"), 0);
    EXPECT_EQ(rows->column("Score"), 1);  // exact, case-sensitive
    EXPECT_EQ(rows->column("score"), -1);
    EXPECT_EQ(rows->affected(), 3);  // SELECT reports its row count
    EXPECT_EQ(rows->command(), "SELECT 3");

    const int score = rows->column("Score");
    std::int64_t total = 0;
    for (Row row : *rows) total += row.get<std::int64_t>(score);
    EXPECT_EQ(total, 60);
  });
}

TEST_F(RowsTest, ReportsAffectedRowsOfWrites) {
  const std::string table = create_table("id bigint PRIMARY KEY");
  asio::io_context io;
  testing::run(io, [&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::connect(io.get_executor(), url_, {});
    PG_CO_ASSERT_OK(conn);
    auto inserted =
        co_await (*conn)->execute_sql("INSERT INTO " + table + " SELECT generate_series(1, 5)");
    PG_CO_ASSERT_OK(inserted);
    EXPECT_EQ(inserted->affected(), 5);
    EXPECT_TRUE(inserted->empty());
    auto deleted = co_await (*conn)->execute_sql("DELETE FROM " + table + " WHERE id > 3");
    PG_CO_ASSERT_OK(deleted);
    EXPECT_EQ(deleted->affected(), 2);
    auto created = co_await (*conn)->execute_sql("CREATE TEMP TABLE t_no_count (x int)");
    PG_CO_ASSERT_OK(created);
    EXPECT_EQ(created->affected(), 0);  // commands without a count
  });
}

}  // namespace
}  // namespace betsdb::pg
