// Transaction: a scope guard for BEGIN ... COMMIT on one connection.
//
//   BETSDB_CO_TRY(auto conn, co_await pool.acquire());
//   BETSDB_CO_TRY(auto tx, co_await pg::Transaction::begin(conn));
//   BETSDB_CO_TRY(auto rows, co_await tx.execute(kDebitWallet, pg::params(user_id, stake)));
//   BETSDB_CO_TRY_STATUS(co_await tx.commit());
//
// Rollback is the default: a Transaction destroyed without a successful commit()
// rolls back. Nothing is sent from the destructor; the connection remembers to
// ROLLBACK first thing on its next statement, and the pool rolls it back before
// reusing it when it is returned (see pool.hpp).
//
// BEGIN is deferred: it travels in the same round trip as the transaction's
// first statement, so begin() itself never waits. A transaction that ran no
// statement commits without a round trip.
//
// Preconditions: the connection outlives the Transaction (declare the
// Transaction after the PooledConnection), and runs one transaction at a time.
// Thread-safety: as Connection (single executor thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "store/pg/connection.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::pg {

enum class Isolation { read_committed, repeatable_read, serializable };

class Transaction final {
 public:
  // Without an isolation level the server default applies (READ COMMITTED).
  static boost::asio::awaitable<Result<Transaction>> begin(
      Connection& connection, std::optional<Isolation> isolation = std::nullopt);
  static boost::asio::awaitable<Result<Transaction>> begin(
      PooledConnection& connection, std::optional<Isolation> isolation = std::nullopt) {
    return begin(*connection, isolation);
  }

  Transaction(Transaction&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params);
  boost::asio::awaitable<Result<Rows>> execute_sql(std::string_view sql);

  // Commits. Fails (and the work is rolled back) if any statement had failed,
  // if a deferred constraint fails (conflict), or if the connection is lost
  // (service_unavailable: the outcome is then unknown). Ends the transaction
  // either way; a second commit() or rollback() is an error.
  boost::asio::awaitable<Status> commit();
  // Rolls back now rather than when the connection is next used or returned.
  boost::asio::awaitable<Status> rollback();

 private:
  explicit Transaction(Connection& connection) noexcept : connection_(&connection) {}
  Status check_open() const;

  Connection* connection_;  // null once committed, rolled back or moved from
};

}  // namespace betsdb::pg
