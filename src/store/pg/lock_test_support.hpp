// Test helpers for statements that meet each other's row locks: a
// transaction that holds rows until its COMMIT, and a wait until given
// backends queue for a lock, so a test orders a race without sleeping.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "store/pg/pool.hpp"

namespace betsdb::pg::testing {

// A transaction on `locker` that ran `sql` (which takes its locks) and holds
// them until the caller sends COMMIT or ROLLBACK on it.
inline boost::asio::awaitable<std::optional<PooledConnection>> hold_rows(Pool& locker,
                                                                         const std::string& sql) {
  auto held = co_await locker.acquire();
  if (!held.ok()) {
    ADD_FAILURE() << held.error().detail;
    co_return std::nullopt;
  }
  auto locked = co_await (*held)->execute_sql("BEGIN; " + sql);
  if (!locked.ok()) {
    ADD_FAILURE() << locked.error().detail;
    co_return std::nullopt;
  }
  co_return std::move(*held);
}

// A transaction on `locker` holding `user`'s row FOR UPDATE until its COMMIT.
inline boost::asio::awaitable<std::optional<PooledConnection>> hold_user_row(Pool& locker,
                                                                             std::int64_t user) {
  co_return co_await hold_rows(
      locker, "SELECT 1 FROM users WHERE id = " + std::to_string(user) + " FOR UPDATE");
}

// Returns once `done()` holds, or after 5 s (the caller asserts on it): for
// statements answered on coroutines of their own once a held lock goes.
template <class Done>
boost::asio::awaitable<void> until_answered(Done done) {
  boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < 500 && !done(); ++i) {
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
}

// The backend pid of `pool`'s one connection.
inline boost::asio::awaitable<std::int64_t> backend_pid(Pool& pool) {
  auto rows = co_await pool.execute_sql("SELECT pg_backend_pid()");
  EXPECT_TRUE(rows.ok());
  co_return rows.ok() ? (*rows)[0].get<std::int64_t>(0) : -1;
}

// Returns once `waiting` backends among `pids` (comma-separated) wait for a
// lock, or after 5 s with a test failure.
inline boost::asio::awaitable<void> until_waiting_for_locks(Pool& watcher, const std::string& pids,
                                                            std::int64_t waiting) {
  boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
  const std::string sql =
      "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid IN (" + pids + ")";
  for (int i = 0; i < 500; ++i) {
    auto rows = co_await watcher.execute_sql(sql);
    if (rows.ok() && (*rows)[0].get<std::int64_t>(0) >= waiting) co_return;
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  ADD_FAILURE() << "fewer than " << waiting << " backends waited for a lock";
}

}  // namespace betsdb::pg::testing
