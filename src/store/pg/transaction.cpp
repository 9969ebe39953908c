#include "store/pg/transaction.hpp"

namespace betsdb::pg {

namespace asio = boost::asio;

namespace {

asio::awaitable<Result<Rows>> transaction_over() {
  co_return Error::internal("the transaction is already over");
}

const char* begin_sql(std::optional<Isolation> isolation) {
  if (!isolation) return "BEGIN";
  switch (*isolation) {
    case Isolation::read_committed:
      return "BEGIN ISOLATION LEVEL READ COMMITTED";
    case Isolation::repeatable_read:
      return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case Isolation::serializable:
      return "BEGIN ISOLATION LEVEL SERIALIZABLE";
  }
  return "BEGIN";
}
}  // namespace

asio::awaitable<Result<Transaction>> Transaction::begin(Connection& connection,
                                                        std::optional<Isolation> isolation) {
  if (connection.broken()) co_return Error::unavailable("PostgreSQL connection is broken");
  BETSDB_CO_TRY_STATUS(connection.defer_begin(begin_sql(isolation)));
  co_return Transaction(connection);
}

Transaction::~Transaction() {
  if (connection_) connection_->abandon_transaction();
}

Status Transaction::check_open() const {
  if (!connection_) return Error::internal("the transaction is already over");
  return {};
}

// Not coroutines themselves: no extra frame per statement.
asio::awaitable<Result<Rows>> Transaction::execute(const Statement& statement,
                                                   const Params& params) {
  if (!connection_) return transaction_over();
  return connection_->execute(statement, params);
}

asio::awaitable<Result<Rows>> Transaction::execute_sql(std::string_view sql) {
  if (!connection_) return transaction_over();
  return connection_->execute_sql(sql);
}

asio::awaitable<Status> Transaction::commit() {
  BETSDB_CO_TRY_STATUS(check_open());
  Connection* connection = std::exchange(connection_, nullptr);
  Status committed = co_await connection->commit_transaction();
  // A failed COMMIT ends the transaction on the server, except when it never
  // got there (connection lost: then the connection is broken anyway).
  if (!committed) connection->abandon_transaction();
  co_return committed;
}

asio::awaitable<Status> Transaction::rollback() {
  BETSDB_CO_TRY_STATUS(check_open());
  Connection* connection = std::exchange(connection_, nullptr);
  Status rolled_back = co_await connection->rollback_transaction();
  if (!rolled_back) connection->abandon_transaction();
  co_return rolled_back;
}

}  // namespace betsdb::pg
