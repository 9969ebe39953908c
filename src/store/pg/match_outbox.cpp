#include "store/pg/match_outbox.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The snapshot becomes a row of `matches` again, so the one column list and
// row mapping of every match read apply to it.
constexpr pg::Statement kPendingChanges{
    "pending_match_changes", "SELECT outbox_id, publish_key, " BETSDB_MATCH_COLUMNS R"sql(
FROM (
  SELECT o.id AS outbox_id, o.publish_key::text AS publish_key, s.*
  FROM match_outbox o CROSS JOIN LATERAL jsonb_populate_record(NULL::matches, o.snapshot) s
  ORDER BY o.id
  LIMIT $1
) AS matches
ORDER BY outbox_id)sql"};

constexpr pg::Statement kForgetChanges{"forget_match_changes",
                                       "DELETE FROM match_outbox WHERE id = ANY($1::bigint[])"};

}  // namespace

boost::asio::awaitable<Result<std::vector<OutboxEntry>>> pending_match_changes(pg::Pool& db,
                                                                               std::size_t limit) {
  auto rows = co_await db.execute(kPendingChanges, pg::params(static_cast<std::int64_t>(limit)));
  if (!rows.ok()) co_return std::move(rows).error();
  std::vector<OutboxEntry> out;
  out.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    BETSDB_CO_TRY(auto match, match_from_row(row, 2));
    out.push_back(OutboxEntry{row.get<std::int64_t>(0), row.get<std::string>(1), std::move(match)});
  }
  co_return out;
}

boost::asio::awaitable<Result<void>> forget_match_changes(pg::Pool& db,
                                                          const std::vector<std::int64_t>& ids) {
  if (ids.empty()) co_return Result<void>{};
  auto rows = co_await db.execute(kForgetChanges,
                                  pg::params(pg::array_literal<std::int64_t>(
                                      ids, [](std::int64_t id) { return std::to_string(id); })));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return Result<void>{};
}

}  // namespace betsdb::store
