#include "store/pg/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>

namespace betsdb::pg {

namespace asio = boost::asio;

namespace {
Error closed_error() {
  return Error::unavailable("PostgreSQL pool is closed");
}
}  // namespace

// --- PooledConnection ---

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

PooledConnection::~PooledConnection() {
  give_back();
}

void PooledConnection::give_back() noexcept {
  if (connection_) pool_->give_back(std::move(connection_));
  pool_.reset();
}

// --- Pool ---

std::shared_ptr<Pool> Pool::create(asio::any_io_executor executor, PoolConfig config) {
  return std::shared_ptr<Pool>(new Pool(std::move(executor), std::move(config)));
}

Pool::Pool(asio::any_io_executor executor, PoolConfig config)
    : executor_(std::move(executor)), config_(std::move(config)) {
  assert(config_.size > 0);
  if (config_.size == 0) config_.size = 1;
  idle_.reserve(config_.size);
}

Pool::~Pool() {
  // Waiters hold a shared_ptr to the pool, so none can be left here.
  assert(waiters_.empty());
}

asio::awaitable<Result<PooledConnection>> Pool::acquire() {
  std::shared_ptr<Pool> self = shared_from_this();
  if (closed_) co_return closed_error();

  while (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection->healthy_when_idle()) co_return PooledConnection(self, std::move(connection));
    discard(std::move(connection));  // closed by the server meanwhile; open a fresh one below
  }
  if (open_ + opening_ < config_.size) {
    ++opening_;
    co_return co_await open_reserved(std::move(self));
  }

  Waiter waiter(executor_);
  waiter.timer.expires_after(config_.acquire_timeout);
  waiters_.push_back(waiter);
  ++counters_.waits;
  // Whoever grants this waiter something cancels the timer; otherwise it expires.
  (void)co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter.is_linked()) waiter.unlink();  // timed out: still queued
  switch (waiter.grant) {
    case Grant::connection:
      co_return PooledConnection(std::move(self), std::move(waiter.connection));
    case Grant::open_slot:
      co_return co_await open_reserved(std::move(self));
    case Grant::pool_closed:
      co_return closed_error();
    case Grant::none:
      break;
  }
  ++counters_.acquire_timeouts;
  co_return Error::unavailable("no PostgreSQL connection free within " +
                               std::to_string(config_.acquire_timeout.count()) + " ms");
}

asio::awaitable<Result<PooledConnection>> Pool::open_reserved(std::shared_ptr<Pool> self) {
  Result<std::unique_ptr<Connection>> connected =
      co_await Connection::connect(executor_, config_.conninfo, connection_options());
  --opening_;
  if (!connected) {
    ++counters_.connect_failures;
    offer_slot();  // let the next waiter try rather than wait out its timeout
    co_return std::move(connected).error();
  }
  ++counters_.connects;
  ++open_;
  if (closed_) {
    discard(std::move(connected).value());
    co_return closed_error();
  }
  co_return PooledConnection(std::move(self), std::move(connected).value());
}

asio::awaitable<Result<Rows>> Pool::execute(const Statement& statement, const Params& params) {
  BETSDB_CO_TRY(PooledConnection connection, co_await acquire());
  co_return co_await connection->execute(statement, params);
}

asio::awaitable<Result<Rows>> Pool::execute_sql(std::string_view sql) {
  BETSDB_CO_TRY(PooledConnection connection, co_await acquire());
  co_return co_await connection->execute_sql(sql);
}

void Pool::close() {
  closed_ = true;
  open_ -= idle_.size();
  counters_.discarded += idle_.size();
  idle_.clear();
  while (Waiter* waiter = next_waiter()) {
    waiter->grant = Grant::pool_closed;
    waiter->timer.cancel();
  }
}

void Pool::give_back(std::unique_ptr<Connection> connection) noexcept {
  const PGTransactionStatusType status = connection->transaction_status();
  if (closed_ || connection->broken() || status == PQTRANS_ACTIVE || status == PQTRANS_UNKNOWN) {
    discard(std::move(connection));
    return;
  }
  if (connection->needs_rollback()) {
    ++resetting_;
    ++counters_.rollbacks;
    asio::co_spawn(executor_, roll_back_then_reuse(shared_from_this(), std::move(connection)),
                   asio::detached);
    return;
  }
  connection->forget_deferred_begin();  // a Transaction that never ran a statement
  hand_over(std::move(connection));
}

asio::awaitable<void> Pool::roll_back_then_reuse(std::shared_ptr<Pool> self,
                                                 std::unique_ptr<Connection> connection) {
  const Status rolled_back = co_await connection->rollback_transaction();
  --self->resetting_;
  if (!rolled_back || self->closed_ || connection->broken() ||
      connection->transaction_status() != PQTRANS_IDLE) {
    self->discard(std::move(connection));
    co_return;
  }
  self->hand_over(std::move(connection));
}

void Pool::hand_over(std::unique_ptr<Connection> connection) noexcept {
  if (Waiter* waiter = next_waiter()) {
    waiter->grant = Grant::connection;
    waiter->connection = std::move(connection);
    waiter->timer.cancel();
    return;
  }
  idle_.push_back(std::move(connection));
}

void Pool::discard(std::unique_ptr<Connection> connection) noexcept {
  connection.reset();
  --open_;
  ++counters_.discarded;
  offer_slot();
}

void Pool::offer_slot() noexcept {
  if (closed_ || open_ + opening_ >= config_.size) return;
  if (Waiter* waiter = next_waiter()) {
    waiter->grant = Grant::open_slot;
    ++opening_;
    waiter->timer.cancel();
  }
}

Pool::Waiter* Pool::next_waiter() noexcept {
  if (waiters_.empty()) return nullptr;
  Waiter& waiter = waiters_.front();
  waiters_.pop_front();
  return &waiter;
}

}  // namespace betsdb::pg
