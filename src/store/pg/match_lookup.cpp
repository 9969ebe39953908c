#include "store/pg/match_lookup.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The ids travel as one array literal, so one prepared statement serves any count.
constexpr pg::Statement kFindMatches{
    "find_matches", "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE id = ANY($1::bigint[])"};

}  // namespace

boost::asio::awaitable<Result<std::vector<domain::Match>>> find_matches(
    pg::Pool& db, std::span<const std::int64_t> ids) {
  std::vector<domain::Match> out;
  if (ids.empty()) co_return out;
  auto rows = co_await db.execute(
      kFindMatches,
      pg::params(pg::array_literal(ids, [](std::int64_t id) { return std::to_string(id); })));
  if (!rows.ok()) co_return std::move(rows).error();
  out.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    BETSDB_CO_TRY(auto match, match_from_row((*rows)[i]));
    out.push_back(std::move(match));
  }
  co_return out;
}

}  // namespace betsdb::store
