#include "store/pg/session_pruning.hpp"

namespace betsdb::store {

namespace {

// In batches: one statement never holds many row locks or a long snapshot.
constexpr pg::Statement kPruneSessions{"prune_sessions", R"sql(
WITH gone AS (
  DELETE FROM sessions WHERE id IN (
    SELECT id FROM sessions
    WHERE expires_at < now() OR revoked_at < now() - interval '1 day'
    LIMIT 10000)
  RETURNING 1
)
SELECT count(*) FROM gone)sql"};

}  // namespace

boost::asio::awaitable<Result<std::int64_t>> prune_sessions(pg::Pool& db) {
  const pg::Params none;
  auto rows = co_await db.execute(kPruneSessions, none);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != 1) co_return Error::internal("prune_sessions answered no row");
  co_return (*rows)[0].get<std::int64_t>(0);
}

}  // namespace betsdb::store
