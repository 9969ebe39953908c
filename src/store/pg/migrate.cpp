#include <algorithm>

#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/transaction.hpp"

namespace betsdb::pg {

namespace asio = boost::asio;

namespace {

// The advisory lock all migrators of this schema queue on; an arbitrary fixed
// key ("betsmigr" in ASCII) that nothing else in the database uses.
constexpr std::string_view kLockMigrations = "SELECT pg_advisory_xact_lock(7089075208236877170)";

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

inline constexpr Statement kIsApplied{"betsdb_migration_is_applied",
                                      "SELECT 1 FROM schema_migrations WHERE version = $1"};
inline constexpr Statement kRecordApplied{
    "betsdb_migration_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};

constexpr std::string_view kTableExists =
    "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL";

// Creates the bookkeeping table; under the lock because concurrent
// CREATE TABLE IF NOT EXISTS can still collide in the catalog. Not even tried
// when it exists: PostgreSQL checks the schema's CREATE right for it all the
// same, which a server running as a role that only uses the tables lacks.
asio::awaitable<Status> ensure_table(PooledConnection& connection) {
  BETSDB_CO_TRY(Transaction tx, co_await Transaction::begin(connection));
  BETSDB_CO_TRY(Rows locked, co_await tx.execute_sql(kLockMigrations));
  BETSDB_CO_TRY(Rows exists, co_await tx.execute_sql(kTableExists));
  if (!exists.empty()) co_return co_await tx.commit();
  BETSDB_CO_TRY(Rows created, co_await tx.execute_sql(kCreateTable));
  co_return co_await tx.commit();
}

// Applies one migration unless another migrator already did; true if applied here.
asio::awaitable<Result<bool>> apply(PooledConnection& connection, const Migration& migration) {
  BETSDB_CO_TRY(Transaction tx, co_await Transaction::begin(connection));
  BETSDB_CO_TRY(Rows locked, co_await tx.execute_sql(kLockMigrations));
  BETSDB_CO_TRY(Rows applied, co_await tx.execute(kIsApplied, params(migration.version)));
  if (!applied.empty()) co_return false;
  Result<Rows> ran = co_await tx.execute_sql(migration.sql);
  if (!ran) {
    Error error = std::move(ran).error();
    error.detail = "migration " + std::to_string(migration.version) + " (" +
                   std::string(migration.name) + ") failed: " + error.detail;
    co_return error;
  }
  BETSDB_CO_TRY(Rows recorded,
                co_await tx.execute(kRecordApplied, params(migration.version, migration.name)));
  BETSDB_CO_TRY_STATUS(co_await tx.commit());
  co_return true;
}

}  // namespace

asio::awaitable<Result<int>> migrate(Pool& pool, const std::vector<Migration>& migrations) {
  std::vector<const Migration*> ordered;
  ordered.reserve(migrations.size());
  for (const Migration& migration : migrations) ordered.push_back(&migration);
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });

  BETSDB_CO_TRY(PooledConnection connection, co_await pool.acquire());
  BETSDB_CO_TRY_STATUS(co_await ensure_table(connection));
  int applied = 0;
  for (const Migration* migration : ordered) {
    BETSDB_CO_TRY(bool applied_here, co_await apply(connection, *migration));
    if (applied_here) ++applied;
  }
  co_return applied;
}

}  // namespace betsdb::pg
