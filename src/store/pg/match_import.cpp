#include "store/pg/match_import.hpp"

#include "store/pg/params.hpp"
#include "store/pg/row_mapping.hpp"
#include "store/pg/statement.hpp"

namespace betsdb::store {

namespace {
constexpr pg::Statement kFindMatchId{
    "import_find_match_id",
    "SELECT id FROM matches WHERE team_1 = $1 AND team_2 = $2 AND starts_at = $3"};
}

boost::asio::awaitable<Result<std::optional<std::int64_t>>> find_match_id(pg::Pool& db,
                                                                          const std::string& team_1,
                                                                          const std::string& team_2,
                                                                          domain::Timestamp date) {
  auto rows = co_await db.execute(kFindMatchId, pg::params(team_1, team_2, timestamp_param(date)));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<std::int64_t>{};
  co_return std::optional<std::int64_t>{(*rows)[0].get<std::int64_t>(0)};
}

}  // namespace betsdb::store
