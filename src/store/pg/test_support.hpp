// Helpers for tests that talk to the real PostgreSQL named by
// BETSDB_TEST_DATABASE_URL (tests only; include from *_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>
#include <vector>

// ASSERT_* cannot be used in coroutines (they `return`); these `co_return`.
// PG_CO_ASSERT_OK takes a variable (it is evaluated twice).
#define PG_CO_ASSERT(condition)                         \
  do {                                                  \
    if (!(condition)) {                                 \
      ADD_FAILURE() << "Expected to hold: " #condition; \
      co_return;                                        \
    }                                                   \
  } while (0)
#define PG_CO_ASSERT_OK(result)                                        \
  do {                                                                 \
    if (!(result).ok()) {                                              \
      ADD_FAILURE() << #result " failed: " << (result).error().detail; \
      co_return;                                                       \
    }                                                                  \
  } while (0)

namespace betsdb::pg::testing {

// No PostgreSQL listens here: the scripts start theirs on free ephemeral ports.
inline constexpr const char* kNoServerUrl = "postgresql://postgres@127.0.0.1:5499/postgres";

// The test database's libpq URI. Missing, the calling test fails (never skips).
inline std::string database_url() {
  const char* url = std::getenv("BETSDB_TEST_DATABASE_URL");
  if (!url || !*url) {
    ADD_FAILURE() << "BETSDB_TEST_DATABASE_URL is not set; point it at a PostgreSQL database, "
                     "e.g. postgresql://postgres@127.0.0.1:5490/postgres";
    return {};
  }
  return url;
}

// `url` with the session's search_path set to `schema` (URI or key=value form).
inline std::string with_search_path(const std::string& url, const std::string& schema) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  return url + " options='-csearch_path=" + schema + "'";
}

// A name no other test run uses at the same time: prefix_<pid>_<n>.
inline std::string unique_name(const std::string& prefix) {
  static int counter = 0;
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

// Runs blocking SQL outside any event loop (fixture set-up and clean-up only).
inline void run_blocking_sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << url << ": " << PQerrorMessage(conn);
    PQfinish(conn);
    return;
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      << sql << ": " << PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
}

// Runs the coroutine `body` (a callable returning awaitable<void>) on `io` until
// the io_context runs out of work; fails if it did not finish within `limit`.
template <class Body>
void run(boost::asio::io_context& io, Body body,
         std::chrono::seconds limit = std::chrono::seconds(30)) {
  bool finished = false;
  std::exception_ptr thrown;
  boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    finished = true;
    thrown = e;
  });
  io.run_for(limit);
  ASSERT_TRUE(finished) << "the test coroutine did not finish within " << limit.count() << " s";
  if (thrown) std::rethrow_exception(thrown);
}

// Base fixture: the database URL, and tables/schemas dropped after the test.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = database_url();
    ASSERT_FALSE(url_.empty());
  }
  void TearDown() override {
    for (const std::string& drop : cleanup_) run_blocking_sql(url_, drop);
  }
  // Creates a uniquely named table with the given column list; dropped after the test.
  std::string create_table(const std::string& columns) {
    std::string name = unique_name("pgtest");
    run_blocking_sql(url_, "CREATE TABLE " + name + " (" + columns + ")");
    cleanup_.push_back("DROP TABLE IF EXISTS " + name);
    return name;
  }
  std::string create_schema() {
    std::string name = unique_name("pgtest_schema");
    run_blocking_sql(url_, "CREATE SCHEMA " + name);
    cleanup_.push_back("DROP SCHEMA IF EXISTS " + name + " CASCADE");
    return name;
  }

  std::string url_;
  std::vector<std::string> cleanup_;
};

}  // namespace betsdb::pg::testing
