// Connection: one libpq connection in non-blocking mode, driven by Asio.
//
// Every wait happens on the connection's socket through Asio
// (posix::stream_descriptor::async_wait), so a slow query suspends only the
// coroutine that issued it, never the loop thread.
//
// Prepared statements: the first execute() of a Statement on a connection sends
// Prepare and Execute in one round trip (libpq pipeline mode); later ones send
// only Execute. Prepared names are remembered per connection.
//
// Timeouts: every operation has a deadline (connect_timeout to connect,
// query_timeout per statement). The server also gets statement_timeout =
// query_timeout, so it normally cancels a slow statement itself (SQLSTATE 57014,
// reported as service_unavailable; the connection stays usable). The client-side
// deadline, kServerCancelGrace later, covers a server that does not answer at
// all: the connection is then marked broken.
//
// Errors (see errors.hpp): no server / lost connection / timeout ->
// service_unavailable; integrity violations -> conflict; the rest -> internal.
// A broken() connection refuses further work; Pool discards it. Also broken:
// a connection that met a read-only server (25006: it was the primary when it
// connected, and is a standby now, or was demoted), so the next connection
// looks for the primary again.
//
// Outcome unknown (Error::outcome_unknown): when the connection breaks or
// times out after a statement was sent, the server may have committed it.
// The usual case is a commit waiting for a synchronous standby that is gone:
// statement_timeout does not cover that wait (PostgreSQL disables it before
// committing), so the client-side deadline ends it. That deadline also sends
// the server a cancel request (from a short-lived thread: PQcancel blocks),
// so the backend does not stay stuck in the wait holding its locks; the
// cancelled wait leaves the transaction committed locally, visible on the
// primary, not confirmed by the standby. If someone else cancels the wait
// (pg_cancel_backend), PostgreSQL answers success with a WARNING
// ("canceling wait for synchronous replication ... has already committed
// locally"): that answer too becomes service_unavailable with
// outcome_unknown, and the connection is dropped.
//
// Thread-safety: none. A Connection belongs to the executor it was opened on
// and is used from that executor's single thread, one operation at a time
// (a second concurrent operation is a bug: it asserts, or returns internal).
// The arguments of execute() must stay alive until it completes, which is the
// case when it is awaited in the same expression.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "store/pg/params.hpp"
#include "store/pg/rows.hpp"
#include "store/pg/statement.hpp"
#include "util/result.hpp"

namespace betsdb::pg {

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds query_timeout{5000};
};

// Extra time the client waits beyond query_timeout so that the server's own
// statement_timeout normally fires first and the connection can be kept.
inline constexpr std::chrono::milliseconds kServerCancelGrace{250};

class Connection final {
 public:
  // Opens a connection. `conninfo` is a libpq URI or key=value string; it is read
  // before the first suspension. A host name (not a numeric address) makes libpq
  // resolve it synchronously: prefer addresses in production conninfos.
  static boost::asio::awaitable<Result<std::unique_ptr<Connection>>> connect(
      boost::asio::any_io_executor executor, const std::string& conninfo,
      ConnectionOptions options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs a prepared statement with text parameters; the rows (or command result).
  boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params);

  // Runs SQL through the simple query protocol: no parameters, may hold several
  // statements (migrations, BEGIN/COMMIT); returns the last statement's result.
  boost::asio::awaitable<Result<Rows>> execute_sql(std::string_view sql);

  // True once the connection is unusable (lost, timed out, protocol confusion).
  bool broken() const noexcept { return broken_; }
  PGTransactionStatusType transaction_status() const noexcept { return PQtransactionStatus(conn_); }
  // The server process serving this connection (pg_stat_activity.pid).
  int backend_pid() const noexcept { return PQbackendPID(conn_); }
  const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }

 private:
  friend class Transaction;
  friend class Pool;
  struct OperationScope;
  struct DeadlineCell;
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using WaitType = boost::asio::posix::descriptor_base::wait_type;

  Connection(boost::asio::any_io_executor executor, PGconn* conn, ConnectionOptions options);

  // --- Transaction support (Transaction, Pool) ---
  // Records `begin_sql` to be sent in the same round trip as the next statement.
  Status defer_begin(const char* begin_sql);
  // A Transaction ended without commit: make sure its work is rolled back.
  void abandon_transaction() noexcept;
  bool needs_rollback() const noexcept;
  void forget_deferred_begin() noexcept { begin_sql_ = nullptr; }
  boost::asio::awaitable<Status> commit_transaction();
  boost::asio::awaitable<Status> rollback_transaction();
  // A cheap check, without waiting, that an idle connection was not closed by the server.
  bool healthy_when_idle() noexcept;

  // --- I/O ---
  Status ready_for_operation() const;
  boost::asio::awaitable<Status> connect_handshake();
  boost::asio::awaitable<Status> wait_socket(WaitType what);
  boost::asio::awaitable<Status> flush_output();
  boost::asio::awaitable<Status> read_until_result_ready();
  Error lost(std::string_view what);
  Error timed_out();
  // Marks errors after the statement left as possibly committed.
  Error after_send(Error error) const;
  static void on_notice(void* self, const PGresult* notice);
  void cancel_on_server() noexcept;

  // --- deadline ---
  void start_deadline(std::chrono::milliseconds budget, const char* phase);
  void stop_deadline() noexcept { deadline_active_ = false; }
  void schedule_deadline_timer(std::chrono::steady_clock::time_point at);
  void on_deadline_timer(std::uint64_t generation, bool aborted);

  boost::asio::any_io_executor executor_;
  PGconn* conn_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<DeadlineCell> deadline_cell_;
  ConnectionOptions options_;
  std::unordered_set<std::string, NameHash, std::equal_to<>> prepared_;

  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::steady_clock::time_point timer_expiry_{};
  std::chrono::milliseconds budget_{};
  std::uint64_t timer_generation_ = 0;
  const char* phase_ = "query";
  const char* begin_sql_ = nullptr;  // deferred BEGIN, sent with the next statement
  bool rollback_pending_ = false;    // ROLLBACK to send before the next statement
  bool broken_ = false;
  bool busy_ = false;
  bool deadline_active_ = false;
  bool deadline_hit_ = false;
  bool timer_running_ = false;
  bool sent_ = false;                     // the current operation's statement left
  bool replication_unconfirmed_ = false;  // its commit was not confirmed by the sync standby
};

}  // namespace betsdb::pg
