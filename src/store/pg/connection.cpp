#include "store/pg/connection.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "store/pg/errors.hpp"

namespace betsdb::pg {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

// Statements in this project take far fewer parameters; more spill to the heap.
constexpr std::size_t kInlineParams = 16;

constexpr const char* kRollbackSql = "ROLLBACK";

// The warnings of a commit whose wait for the synchronous standby was cut
// short ("canceling wait for synchronous replication due to user request",
// "canceling the wait for synchronous replication and terminating
// connection ..."). They have no SQLSTATE of their own (01000), so the
// message is what tells them apart; lc_messages must stay English (the
// default of our conninfo's server, see docs/operations.md).
bool replication_wait_cancelled(const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* message = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  return severity && message && std::strcmp(severity, "WARNING") == 0 &&
         std::strstr(message, "wait for synchronous replication") != nullptr;
}

constexpr std::string_view kReadOnlyTransaction = "25006";

bool is_row_result(ExecStatusType status) {
  return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY;
}

}  // namespace

// Timer completions may already be queued when the Connection is destroyed;
// they reach it only through this cell, which the destructor clears.
struct Connection::DeadlineCell {
  Connection* owner;
};

// Marks the connection busy for one operation and arms its deadline. An
// operation that ends without reaching a clean protocol state (an error return
// mid-protocol, or its coroutine destroyed while suspended) breaks the connection.
struct Connection::OperationScope {
  OperationScope(Connection& connection, std::chrono::milliseconds budget, const char* phase)
      : connection(connection) {
    connection.busy_ = true;
    connection.sent_ = false;
    connection.replication_unconfirmed_ = false;
    connection.start_deadline(budget, phase);
  }
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;
  ~OperationScope() {
    connection.busy_ = false;
    connection.stop_deadline();
    if (!clean) connection.broken_ = true;
  }
  void completed() noexcept { clean = true; }

  Connection& connection;
  bool clean = false;
};

Connection::Connection(asio::any_io_executor executor, PGconn* conn, ConnectionOptions options)
    : executor_(executor),
      conn_(conn),
      socket_(executor),
      timer_(executor),
      deadline_cell_(std::make_shared<DeadlineCell>(DeadlineCell{this})),
      options_(options) {}

Connection::~Connection() {
  deadline_cell_->owner = nullptr;
  // libpq owns the socket: take it back from Asio so that only PQfinish closes it.
  if (socket_.is_open()) (void)socket_.release();
  if (conn_) PQfinish(conn_);
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Connection::connect(
    asio::any_io_executor executor, const std::string& conninfo, ConnectionOptions options) {
  std::unique_ptr<Connection> connection(
      new Connection(executor, PQconnectStart(conninfo.c_str()), options));
  if (!connection->conn_ || PQstatus(connection->conn_) == CONNECTION_BAD) {
    co_return connection_error(connection->conn_, "cannot connect to PostgreSQL");
  }
  BETSDB_CO_TRY_STATUS(co_await connection->connect_handshake());

  // The server cancels statements that outlive query_timeout itself, which keeps
  // the connection usable (a client-side timeout has to drop it).
  std::string set_timeout =
      "SET statement_timeout = " + std::to_string(options.query_timeout.count());
  BETSDB_CO_TRY(Rows ignored, co_await connection->execute_sql(set_timeout));
  (void)ignored;
  co_return std::move(connection);
}

asio::awaitable<Status> Connection::connect_handshake() {
  OperationScope operation(*this, options_.connect_timeout, "connect");
  // As documented for PQconnectPoll: start as if it had asked to write.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) co_return lost("cannot connect to PostgreSQL");
    // libpq may close its socket and open another between polls (next address,
    // SSL fallback), possibly under the same number: register it only per wait.
    boost::system::error_code ec;
    socket_.assign(PQsocket(conn_), ec);
    if (ec) co_return lost("cannot watch the PostgreSQL socket");
    Status waited = co_await wait_socket(poll == PGRES_POLLING_READING
                                             ? asio::posix::descriptor_base::wait_read
                                             : asio::posix::descriptor_base::wait_write);
    (void)socket_.release();
    if (!waited) co_return waited;
    poll = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) co_return lost("cannot switch libpq to non-blocking mode");
  // Notices ("relation already exists, skipping", ...) are expected and would
  // otherwise go to stderr; one kind matters (replication_wait_cancelled).
  PQsetNoticeReceiver(conn_, &Connection::on_notice, this);
  boost::system::error_code ec;
  socket_.assign(PQsocket(conn_), ec);
  if (ec) co_return lost("cannot watch the PostgreSQL socket");
  operation.completed();
  co_return Status{};
}

Status Connection::ready_for_operation() const {
  assert(!busy_ && "one operation at a time per Connection");
  if (busy_) return Error::internal("PostgreSQL connection already has an operation in flight");
  if (broken_) return Error::unavailable("PostgreSQL connection is broken");
  return {};
}

asio::awaitable<Result<Rows>> Connection::execute(const Statement& statement,
                                                  const Params& params) {
  // An empty name is libpq's unnamed statement, which BEGIN/ROLLBACK below overwrite.
  assert(!statement.name.empty() && "a Statement needs a name");
  BETSDB_CO_TRY_STATUS(ready_for_operation());
  OperationScope operation(*this, options_.query_timeout + kServerCancelGrace, "query");

  auto name = prepared_.find(statement.name);
  const bool prepare = name == prepared_.end();
  if (prepare) name = prepared_.emplace(statement.name).first;

  std::array<const char*, kInlineParams> inline_values;
  std::vector<const char*> heap_values;
  const char** values = inline_values.data();
  if (params.size() > kInlineParams) {
    heap_values.resize(params.size());
    values = heap_values.data();
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
  }
  const int param_count = static_cast<int>(params.size());

  // One pipeline, one round trip: [ROLLBACK] [BEGIN] [Prepare] Execute Sync.
  if (!PQenterPipelineMode(conn_)) co_return lost("cannot enter pipeline mode");
  int queries = 0;
  bool sent = true;
  if (rollback_pending_) {
    sent = sent && PQsendQueryParams(conn_, kRollbackSql, 0, nullptr, nullptr, nullptr, nullptr, 0);
    ++queries;
    rollback_pending_ = false;
  }
  if (begin_sql_) {
    sent = sent && PQsendQueryParams(conn_, begin_sql_, 0, nullptr, nullptr, nullptr, nullptr, 0);
    ++queries;
    begin_sql_ = nullptr;
  }
  const int prepare_index = prepare ? queries++ : -1;
  if (prepare) {
    const std::string sql(statement.sql);  // libpq wants a C string; once per connection
    sent = sent && PQsendPrepare(conn_, name->c_str(), sql.c_str(), 0, nullptr);
  }
  const int execute_index = queries++;
  sent =
      sent && PQsendQueryPrepared(conn_, name->c_str(), param_count, values, nullptr, nullptr, 0);
  sent = sent && PQpipelineSync(conn_);
  if (!sent) {
    if (prepare) prepared_.erase(name);
    co_return lost("cannot send to PostgreSQL");
  }
  sent_ = true;
  if (PQflush(conn_) != 0) BETSDB_CO_TRY_STATUS(co_await flush_output());

  // Results arrive per query, each followed by a null; then the sync marker.
  Rows rows;
  std::optional<Error> failure;
  bool prepared_now = false;
  for (int index = 0;;) {
    if (PQisBusy(conn_)) BETSDB_CO_TRY_STATUS(co_await read_until_result_ready());
    PGresult* raw = PQgetResult(conn_);
    if (!raw) {
      if (PQstatus(conn_) != CONNECTION_OK) co_return lost("PostgreSQL connection lost");
      if (++index > queries) co_return lost("PostgreSQL pipeline out of step");
      continue;
    }
    Rows result(raw);
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_PIPELINE_ABORTED) continue;  // skipped after an earlier error
    if (status == PGRES_FATAL_ERROR) {
      if (!failure) failure = error_from_result(raw, PQstatus(conn_) != CONNECTION_OK);
      continue;
    }
    if (!is_row_result(status)) co_return lost("unexpected PostgreSQL result status");
    if (index == prepare_index) prepared_now = true;
    if (index == execute_index) rows = std::move(result);
  }
  if (!PQexitPipelineMode(conn_)) co_return lost("cannot leave pipeline mode");
  if (prepare && !prepared_now) prepared_.erase(name);
  operation.completed();
  if (failure) {
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate_of(*failure) == kReadOnlyTransaction) {
      broken_ = true;
    }
    if (PQstatus(conn_) != CONNECTION_OK) co_return after_send(std::move(*failure));
    co_return std::move(*failure);
  }
  if (replication_unconfirmed_) co_return lost("commit not confirmed by the synchronous standby");
  co_return std::move(rows);
}

asio::awaitable<Result<Rows>> Connection::execute_sql(std::string_view sql) {
  BETSDB_CO_TRY_STATUS(ready_for_operation());
  OperationScope operation(*this, options_.query_timeout + kServerCancelGrace, "query");

  std::string text;
  if (rollback_pending_) text.append(kRollbackSql).append(";");
  if (begin_sql_) text.append(begin_sql_).append(";");
  text.append(sql);
  rollback_pending_ = false;
  begin_sql_ = nullptr;

  if (!PQsendQuery(conn_, text.c_str())) co_return lost("cannot send to PostgreSQL");
  sent_ = true;
  if (PQflush(conn_) != 0) BETSDB_CO_TRY_STATUS(co_await flush_output());

  Rows last;
  std::optional<Error> failure;
  for (;;) {
    if (PQisBusy(conn_)) BETSDB_CO_TRY_STATUS(co_await read_until_result_ready());
    PGresult* raw = PQgetResult(conn_);
    if (!raw) break;
    Rows result(raw);
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_FATAL_ERROR) {
      if (!failure) failure = error_from_result(raw, PQstatus(conn_) != CONNECTION_OK);
      continue;
    }
    if (!is_row_result(status)) co_return lost("unexpected PostgreSQL result status");
    last = std::move(result);
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    failure = after_send(failure ? std::move(*failure) : lost("PostgreSQL connection lost"));
  }
  operation.completed();
  if (failure) {
    if (sqlstate_of(*failure) == kReadOnlyTransaction) broken_ = true;
    co_return std::move(*failure);
  }
  if (replication_unconfirmed_) co_return lost("commit not confirmed by the synchronous standby");
  co_return std::move(last);
}

// --- transactions ---

Status Connection::defer_begin(const char* begin_sql) {
  if (begin_sql_ || (!rollback_pending_ && transaction_status() != PQTRANS_IDLE)) {
    return Error::internal("a transaction is already open on this connection");
  }
  begin_sql_ = begin_sql;
  return {};
}

void Connection::abandon_transaction() noexcept {
  if (begin_sql_) {
    begin_sql_ = nullptr;  // never reached the server
  } else if (transaction_status() != PQTRANS_IDLE) {
    rollback_pending_ = true;
  }
}

bool Connection::needs_rollback() const noexcept {
  const PGTransactionStatusType status = transaction_status();
  return rollback_pending_ || status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

asio::awaitable<Status> Connection::commit_transaction() {
  if (begin_sql_) {  // nothing ran: nothing to commit
    begin_sql_ = nullptr;
    co_return Status{};
  }
  BETSDB_CO_TRY(Rows result, co_await execute_sql("COMMIT"));
  // COMMIT of a transaction that already failed succeeds with the tag ROLLBACK.
  if (result.command() == "ROLLBACK") {
    co_return Error::internal("COMMIT rolled back: a statement of the transaction had failed");
  }
  co_return Status{};
}

asio::awaitable<Status> Connection::rollback_transaction() {
  if (begin_sql_ && !rollback_pending_) {
    begin_sql_ = nullptr;
    if (transaction_status() == PQTRANS_IDLE) co_return Status{};
  }
  begin_sql_ = nullptr;
  rollback_pending_ = false;
  BETSDB_CO_TRY(Rows ignored, co_await execute_sql(kRollbackSql));
  (void)ignored;
  co_return Status{};
}

bool Connection::healthy_when_idle() noexcept {
  if (broken_ || busy_ || PQstatus(conn_) != CONNECTION_OK) return false;
  const auto peek = [this] {
    char byte;
    return ::recv(PQsocket(conn_), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  };
  ssize_t n = peek();
  if (n > 0) {
    // Something arrived while idle: a notice, a parameter change, or the error
    // the server sends before it closes the connection. Let libpq read it.
    if (!PQconsumeInput(conn_)) return false;
    n = peek();
  }
  if (n == 0) return false;  // orderly close by the server
  return n > 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// --- I/O helpers ---

asio::awaitable<Status> Connection::wait_socket(WaitType what) {
  if (deadline_hit_) co_return timed_out();
  auto [ec] = co_await socket_.async_wait(what, asio::as_tuple(asio::use_awaitable));
  if (deadline_hit_) co_return timed_out();
  if (ec) {
    broken_ = true;
    co_return after_send(Error::unavailable("PostgreSQL socket wait failed: " + ec.message()));
  }
  co_return Status{};
}

asio::awaitable<Status> Connection::flush_output() {
  for (;;) {
    const int pending = PQflush(conn_);
    if (pending == 0) co_return Status{};
    if (pending < 0) co_return lost("cannot send to PostgreSQL");
    BETSDB_CO_TRY_STATUS(co_await wait_socket(asio::posix::descriptor_base::wait_write));
  }
}

asio::awaitable<Status> Connection::read_until_result_ready() {
  do {
    BETSDB_CO_TRY_STATUS(co_await wait_socket(asio::posix::descriptor_base::wait_read));
    if (!PQconsumeInput(conn_)) co_return lost("PostgreSQL connection lost");
  } while (PQisBusy(conn_));
  co_return Status{};
}

Error Connection::lost(std::string_view what) {
  broken_ = true;
  return after_send(connection_error(conn_, what));
}

Error Connection::timed_out() {
  broken_ = true;
  return after_send(Error::unavailable(std::string("PostgreSQL ") + phase_ + " timed out after " +
                                       std::to_string(budget_.count()) + " ms"));
}

Error Connection::after_send(Error error) const {
  if (sent_ || replication_unconfirmed_) error.outcome_unknown = true;
  return error;
}

void Connection::on_notice(void* self, const PGresult* notice) {
  if (replication_wait_cancelled(notice)) {
    static_cast<Connection*>(self)->replication_unconfirmed_ = true;
  }
}

void Connection::cancel_on_server() noexcept {
  PGcancel* cancel = PQgetCancel(conn_);
  if (!cancel) return;
  try {
    // PQcancel connects and waits for the server: never on the loop thread.
    // A thread per timed-out statement is rare enough to need no pool.
    std::thread([cancel] {
      char reason[256];
      (void)PQcancel(cancel, reason, sizeof reason);
      PQfreeCancel(cancel);
    }).detach();
  } catch (const std::system_error&) {
    PQfreeCancel(cancel);  // no thread to spare: the connection is dropped anyway
  }
}

// --- deadline ---
// One timer per connection, re-armed lazily: starting an operation only moves
// deadline_; the timer, when it fires early, re-arms itself for the current
// deadline. That saves a cancel and a completion per query.

void Connection::start_deadline(std::chrono::milliseconds budget, const char* phase) {
  budget_ = budget;
  phase_ = phase;
  deadline_ = steady_clock::now() + budget;
  deadline_hit_ = false;
  deadline_active_ = true;
  if (!timer_running_ || timer_expiry_ > deadline_) schedule_deadline_timer(deadline_);
}

void Connection::schedule_deadline_timer(steady_clock::time_point at) {
  timer_running_ = true;
  timer_expiry_ = at;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(at);
  timer_.async_wait([cell = deadline_cell_, generation](const boost::system::error_code& ec) {
    if (cell->owner) cell->owner->on_deadline_timer(generation, ec.failed());
  });
}

void Connection::on_deadline_timer(std::uint64_t generation, bool aborted) {
  if (generation != timer_generation_) return;  // superseded by a re-schedule
  timer_running_ = false;
  if (aborted || !deadline_active_) return;
  if (steady_clock::now() < deadline_) {
    schedule_deadline_timer(deadline_);
    return;
  }
  deadline_hit_ = true;
  // A statement may still run on the server (or wait there for a standby):
  // ask it to stop, since the connection is about to be dropped.
  if (sent_) cancel_on_server();
  boost::system::error_code ignored;
  socket_.cancel(ignored);  // wakes the waiting operation, which reports the timeout
}

}  // namespace betsdb::pg
