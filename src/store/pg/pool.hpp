// Pool: a shard's PostgreSQL connections.
//
// Connections open lazily, up to `size`. acquire() hands out an idle one (the
// most recently used first), opens a new one while below `size`, and otherwise
// WAITS in FIFO order for one to come back, up to acquire_timeout, after which
// it answers service_unavailable. A PooledConnection returns its connection on
// destruction:
//   - broken connections are discarded (and replaced lazily by a later acquire);
//   - connections returned inside a transaction (a Transaction dropped without
//     commit, or an error mid-way) get a ROLLBACK, sent asynchronously, before
//     anyone else may use them: a connection is never handed out mid-transaction;
//   - idle connections the server has closed meanwhile (restart, idle timeout)
//     are noticed without a round trip at acquire time and replaced.
//
// close() discards idle connections, fails waiters and makes later acquires
// fail; connections in use are discarded when returned. Nothing of the pool
// keeps an io_context::run() going afterwards. (Before close(), an idle
// connection may keep its deadline timer pending for up to query_timeout after
// its last statement: an open pool is meant to live as long as its loop.)
// Destroy the pool, like any Asio object, before its io_context.
//
// Thread-safety: none. A Pool is used from the single thread running its
// executor (one pool per shard). PooledConnection keeps its Pool alive.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/pg/connection.hpp"

namespace betsdb::pg {

struct PoolConfig {
  std::string conninfo;  // libpq URI or key=value string
  std::size_t size = 4;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds query_timeout{5000};
};

// Monotonic counters for metrics.
struct PoolCounters {
  std::uint64_t connects = 0;          // connections opened
  std::uint64_t connect_failures = 0;  // connection attempts that failed
  std::uint64_t acquire_timeouts = 0;  // acquires that gave up after acquire_timeout
  std::uint64_t waits = 0;             // acquires that had to wait for a connection
  std::uint64_t discarded = 0;         // connections dropped (broken, stale, closed pool)
  std::uint64_t rollbacks = 0;         // connections returned mid-transaction and rolled back
};

class Pool;

// Exclusive use of one pooled connection; move-only. Returns it on destruction.
class PooledConnection final {
 public:
  PooledConnection(PooledConnection&& other) noexcept = default;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  ~PooledConnection();

  Connection& operator*() const noexcept { return *connection_; }
  Connection* operator->() const noexcept { return connection_.get(); }

  boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params) {
    return connection_->execute(statement, params);
  }
  boost::asio::awaitable<Result<Rows>> execute_sql(std::string_view sql) {
    return connection_->execute_sql(sql);
  }

 private:
  friend class Pool;
  PooledConnection(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> connection) noexcept
      : pool_(std::move(pool)), connection_(std::move(connection)) {}
  void give_back() noexcept;

  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> connection_;
};

class Pool final : public std::enable_shared_from_this<Pool> {
 public:
  static std::shared_ptr<Pool> create(boost::asio::any_io_executor executor, PoolConfig config);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  boost::asio::awaitable<Result<PooledConnection>> acquire();
  // acquire + execute + return the connection.
  boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params);
  boost::asio::awaitable<Result<Rows>> execute_sql(std::string_view sql);
  void close();

  // Connections open or opening.
  std::size_t size() const noexcept { return open_ + opening_; }
  std::size_t idle() const noexcept { return idle_.size(); }
  std::size_t in_use() const noexcept { return open_ - idle_.size() - resetting_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  const PoolCounters& counters() const noexcept { return counters_; }
  const PoolConfig& config() const noexcept { return config_; }
  bool closed() const noexcept { return closed_; }
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  friend class PooledConnection;

  enum class Grant { none, connection, open_slot, pool_closed };
  // One suspended acquire(); lives in its coroutine frame and unlinks itself if
  // that frame is destroyed.
  struct Waiter final : boost::intrusive::list_base_hook<
                            boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    explicit Waiter(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    Grant grant = Grant::none;
    std::unique_ptr<Connection> connection;
  };
  using WaiterList = boost::intrusive::list<Waiter, boost::intrusive::constant_time_size<false>>;

  Pool(boost::asio::any_io_executor executor, PoolConfig config);

  boost::asio::awaitable<Result<PooledConnection>> open_reserved(std::shared_ptr<Pool> self);
  static boost::asio::awaitable<void> roll_back_then_reuse(std::shared_ptr<Pool> self,
                                                           std::unique_ptr<Connection> connection);
  void give_back(std::unique_ptr<Connection> connection) noexcept;
  void hand_over(std::unique_ptr<Connection> connection) noexcept;
  void discard(std::unique_ptr<Connection> connection) noexcept;
  void offer_slot() noexcept;
  Waiter* next_waiter() noexcept;
  ConnectionOptions connection_options() const noexcept {
    return {config_.connect_timeout, config_.query_timeout};
  }

  boost::asio::any_io_executor executor_;
  PoolConfig config_;
  std::vector<std::unique_ptr<Connection>> idle_;  // back = most recently used
  WaiterList waiters_;
  std::size_t open_ = 0;       // Connection objects alive: idle, in use, rolling back
  std::size_t opening_ = 0;    // connects in flight (their slots are reserved)
  std::size_t resetting_ = 0;  // returned mid-transaction, ROLLBACK in flight
  bool closed_ = false;
  PoolCounters counters_;
};

}  // namespace betsdb::pg
