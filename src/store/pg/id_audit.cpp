#include "store/pg/id_audit.hpp"

namespace betsdb::store {

boost::asio::awaitable<Result<IdAudit>> run_id_audit(pg::Pool& db, const pg::Statement& audit) {
  const pg::Params no_params;
  auto rows = co_await db.execute(audit, no_params);
  if (!rows.ok()) co_return std::move(rows).error();
  IdAudit found;
  for (pg::Row row : *rows) {
    found.checked = row.get<std::int64_t>(0);
    if (row.is_null(1)) continue;
    found.mismatched.push_back(row.get<std::int64_t>(1));
  }
  co_return found;
}

}  // namespace betsdb::store
