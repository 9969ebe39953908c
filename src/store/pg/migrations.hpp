// Schema migrations: versioned SQL applied at start-up, each exactly once.
//
// The project's migrations live in db/migrations/NNNN_name.sql; the build
// embeds them (cmake/embed_migrations.cmake generates embedded_migrations()),
// so `betsdb migrate` works from any directory.
//
// migrate() keeps track in schema_migrations(version, name, applied_at), in
// the first schema of the connection's search_path. Each missing migration runs
// in its own transaction together with its schema_migrations row, under a
// transaction-scoped advisory lock, so concurrent migrators (several instances
// starting at once) apply each migration exactly once and a failed migration
// leaves nothing behind. Migrations therefore must not contain transaction
// control or statements that cannot run in a transaction
// (CREATE INDEX CONCURRENTLY). Each statement is bounded by the pool's
// query_timeout: run migrations with a pool configured for it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace betsdb::pg {

class Pool;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Defined by the generated migrations_data.cpp, in version order.
const std::vector<Migration>& embedded_migrations();

// Applies the migrations not yet applied, in version order; returns how many it applied.
boost::asio::awaitable<Result<int>> migrate(Pool& pool, const std::vector<Migration>& migrations);

}  // namespace betsdb::pg
