#include "store/pg/match_store.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

constexpr pg::Statement kInsertMatch{"insert_match", R"sql(
INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING )sql" BETSDB_MATCH_COLUMNS};

constexpr pg::Statement kFindMatch{"find_match",
                                   "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE id = $1"};

// Optional filters as "$n IS NULL OR ..." keep this one prepared statement;
// the match table is small enough that the plan does not matter much.
#define BETSDB_MATCH_FILTER                                                           \
  " WHERE ($1::text IS NULL OR status = $1)"                                          \
  " AND ($2::text IS NULL OR lower(team_1) = lower($2) OR lower(team_2) = lower($2))" \
  " AND ($3::timestamptz IS NULL OR starts_at >= $3)"                                 \
  " AND ($4::timestamptz IS NULL OR starts_at <= $4)"

constexpr pg::Statement kListMatchesAsc{"list_matches_asc",
                                        "SELECT " BETSDB_MATCH_COLUMNS
                                        ", count(*) OVER () FROM matches" BETSDB_MATCH_FILTER
                                        " ORDER BY starts_at, id LIMIT $5 OFFSET $6"};
constexpr pg::Statement kListMatchesDesc{"list_matches_desc",
                                         "SELECT " BETSDB_MATCH_COLUMNS
                                         ", count(*) OVER () FROM matches" BETSDB_MATCH_FILTER
                                         " ORDER BY starts_at DESC, id DESC LIMIT $5 OFFSET $6"};
constexpr pg::Statement kCountMatches{"count_matches",
                                      "SELECT count(*) FROM matches" BETSDB_MATCH_FILTER};

constexpr pg::Statement kUpdateOdds{"change_odds_unless_settled", R"sql(
UPDATE matches SET
  odds_1 = CASE WHEN $2 THEN $3 ELSE odds_1 END,
  odds_x = CASE WHEN $4 THEN $5 ELSE odds_x END,
  odds_2 = CASE WHEN $6 THEN $7 ELSE odds_2 END
WHERE id = $1 AND status = 'open'
RETURNING )sql" BETSDB_MATCH_COLUMNS};

std::optional<std::int64_t> hundredths(const domain::OddsBook& book, domain::Selection s) {
  auto o = book.get(s);
  if (!o) return std::nullopt;
  return o->hundredths();
}

}  // namespace

Async<domain::Match> insert_match(pg::Pool& db, const domain::NewMatch& m) {
  using domain::Selection;
  auto rows = co_await db.execute(
      kInsertMatch,
      pg::params(m.team_1, m.team_2, timestamp_param(m.date), hundredths(m.odds, Selection::home),
                 hundredths(m.odds, Selection::draw), hundredths(m.odds, Selection::away)));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return match_from_row((*rows)[0]);
}

Async<std::optional<domain::Match>> find_match(pg::Pool& db, std::int64_t id) {
  auto rows = co_await db.execute(kFindMatch, pg::params(id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Match>{};
  BETSDB_CO_TRY(auto match, match_from_row((*rows)[0]));
  co_return std::optional<domain::Match>{std::move(match)};
}

Async<domain::ListPage<domain::Match>> list_matches(pg::Pool& db, const domain::MatchFilter& f,
                                                    domain::Page page) {
  std::optional<std::string> status;
  if (f.status) status = std::string(domain::to_string(*f.status));
  std::optional<std::string> from, to;
  if (f.from) from = timestamp_param(*f.from);
  if (f.to) to = timestamp_param(*f.to);
  auto p = pg::params(status, f.team, from, to, std::int64_t{page.limit}, page.offset);
  auto rows = co_await db.execute(f.newest_first ? kListMatchesDesc : kListMatchesAsc, p);
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::Match> out;
  out.items.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    BETSDB_CO_TRY(auto match, match_from_row((*rows)[i]));
    out.items.push_back(std::move(match));
    out.total = (*rows)[i].get<std::int64_t>(kMatchColumnCount);
  }
  if (rows->empty() && page.offset > 0) {
    auto count = co_await db.execute(kCountMatches, pg::params(status, f.team, from, to));
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

Async<std::optional<domain::Match>> change_odds_unless_settled(pg::Pool& db, std::int64_t id,
                                                               const domain::OddsChange& c) {
  using domain::Selection;
  auto rows = co_await db.execute(
      kUpdateOdds, pg::params(id, c.touched[0], hundredths(c.values, Selection::home), c.touched[1],
                              hundredths(c.values, Selection::draw), c.touched[2],
                              hundredths(c.values, Selection::away)));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return std::optional<domain::Match>{};
  BETSDB_CO_TRY(auto match, match_from_row((*rows)[0]));
  co_return std::optional<domain::Match>{std::move(match)};
}

}  // namespace betsdb::store
