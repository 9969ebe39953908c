#include "store/pg/match_import.hpp"

#include "store/pg/params.hpp"
#include "store/pg/row_mapping.hpp"
#include "store/pg/statement.hpp"

namespace betsdb::store {

namespace {
constexpr pg::Statement kFindMatchId{
    "import_find_match_id",
    "SELECT id FROM matches WHERE team_1 = $1 AND team_2 = $2 AND starts_at = $3"};

constexpr pg::Statement kFindImported{
    "import_find_imported", "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE source_key = $1"};

// The DO UPDATE that changes nothing makes the existing row come back, so
// one round trip answers both the first and every later import.
constexpr pg::Statement kShiftDays{"import_shift_days", R"sql(
INSERT INTO import_shifts (source, shift_days) VALUES ($1, $2)
ON CONFLICT (source) DO UPDATE SET shift_days = import_shifts.shift_days
RETURNING shift_days)sql"};
}  // namespace

boost::asio::awaitable<Result<std::optional<std::int64_t>>> find_match_id(pg::Pool& db,
                                                                          const std::string& team_1,
                                                                          const std::string& team_2,
                                                                          domain::Timestamp date) {
  auto rows = co_await db.execute(kFindMatchId, pg::params(team_1, team_2, timestamp_param(date)));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<std::int64_t>{};
  co_return std::optional<std::int64_t>{(*rows)[0].get<std::int64_t>(0)};
}

boost::asio::awaitable<Result<std::optional<domain::Match>>> find_imported_match(
    pg::Pool& db, const std::string& identity) {
  auto rows = co_await db.execute(kFindImported, pg::params(identity));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Match>{};
  BETSDB_CO_TRY(auto match, match_from_row((*rows)[0]));
  co_return std::optional<domain::Match>{std::move(match)};
}

boost::asio::awaitable<Result<int>> import_shift_days(pg::Pool& db, const std::string& source,
                                                      int proposed) {
  auto rows = co_await db.execute(kShiftDays, pg::params(source, proposed));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return (*rows)[0].get<int>(0);
}

}  // namespace betsdb::store
