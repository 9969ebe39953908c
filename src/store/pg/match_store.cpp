#include "store/pg/match_store.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// Each operator write and its audit entry ($n IS NULL: no actor, no entry)
// in one statement.
#define BETSDB_AUDIT_MATCH(action, actor, request, details)                                      \
  "INSERT INTO audit (actor, action, target, request_id, details) "                              \
  "SELECT " actor ", '" action "', 'match:' || id, " request ", " details " FROM m WHERE " actor \
  "::text IS NOT NULL"

// The API's rendering of a timestamp: UTC, fraction without trailing zeros.
#define BETSDB_SQL_RFC3339(col)                            \
  "(regexp_replace(to_char(" col                           \
  " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), " \
  "'\\.?0+$', '') || 'Z')"

// The created match in the API's words; withdrawn selections and absent limits left out.
#define BETSDB_SQL_MATCH_DETAILS \
  "jsonb_strip_nulls(jsonb_build_object('team_1', team_1, 'team_2', team_2, "                 \
  "'date', " BETSDB_SQL_RFC3339("starts_at") ", 'competition', competition, "                 \
  "'odds', jsonb_strip_nulls(jsonb_build_object("                                              \
  "'1', round(odds_1 / 100.0, 2), 'X', round(odds_x / 100.0, 2), "                           \
  "'2', round(odds_2 / 100.0, 2))), 'max_stake', max_stake, 'max_liability', max_liability))"

constexpr pg::Statement kInsertMatch{"insert_match", R"sql(
WITH m AS (
  INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2, max_stake, max_liability,
                       competition, source_key)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $11, $12)
  RETURNING *
), a AS ()sql" BETSDB_AUDIT_MATCH("match.create", "$9", "$10", BETSDB_SQL_MATCH_DETAILS) R"sql()
SELECT )sql" BETSDB_MATCH_COLUMNS " FROM m"};

constexpr pg::Statement kFindMatch{"find_match",
                                   "SELECT " BETSDB_MATCH_COLUMNS " FROM matches WHERE id = $1"};

// Optional filters as "$n IS NULL OR ..." keep one prepared statement per
// order; the plan then does not depend on which filters are given.
#define BETSDB_MATCH_FILTER                                                           \
  " WHERE ($1::text IS NULL OR status = $1)"                                          \
  " AND ($2::text IS NULL OR lower(team_1) = lower($2) OR lower(team_2) = lower($2))" \
  " AND ($3::timestamptz IS NULL OR starts_at >= $3)"                                 \
  " AND ($4::timestamptz IS NULL OR starts_at <= $4)"                                 \
  " AND ($5::text IS NULL OR lower(competition) = lower($5))"

// A search (`q`, $6 a LIKE pattern) has statements of its own, with the
// condition always there: a generic plan of "$6 IS NULL OR ..." could not use
// the trigram index, and a search of 100,000 matches would read them all.
#define BETSDB_MATCH_SEARCH BETSDB_MATCH_FILTER " AND search_text LIKE lower($6)"

// The page alone: read along starts_at, it stops after `limit` rows. Its
// total is counted apart, and only when the page cannot tell it (below):
// count(*) OVER () would read and sort every matching row for every page,
// 70-90 ms for a search found in most of 100,000 matches.
#define BETSDB_MATCH_PAGE(filter, order, limit) \
  "SELECT " BETSDB_MATCH_COLUMNS " FROM matches" filter " ORDER BY " order " LIMIT " limit

constexpr pg::Statement kListMatchesAsc{
    "list_matches_asc", BETSDB_MATCH_PAGE(BETSDB_MATCH_FILTER, "starts_at, id", "$6 OFFSET $7")};
constexpr pg::Statement kListMatchesDesc{
    "list_matches_desc",
    BETSDB_MATCH_PAGE(BETSDB_MATCH_FILTER, "starts_at DESC, id DESC", "$6 OFFSET $7")};
constexpr pg::Statement kCountMatches{"count_matches",
                                      "SELECT count(*) FROM matches" BETSDB_MATCH_FILTER};
constexpr pg::Statement kSearchMatchesAsc{
    "search_matches_asc", BETSDB_MATCH_PAGE(BETSDB_MATCH_SEARCH, "starts_at, id", "$7 OFFSET $8")};
constexpr pg::Statement kSearchMatchesDesc{
    "search_matches_desc",
    BETSDB_MATCH_PAGE(BETSDB_MATCH_SEARCH, "starts_at DESC, id DESC", "$7 OFFSET $8")};
constexpr pg::Statement kCountSearch{"count_match_search",
                                     "SELECT count(*) FROM matches" BETSDB_MATCH_SEARCH};

// The right-hand sides see the row as it was, so the version compares the
// old prices with the new ones. The locked `old` row gives the values before
// the change, so the same odds and limits again are audited as nothing.
constexpr pg::Statement kUpdateMatch{"change_match_unless_settled", R"sql(
WITH m AS (
UPDATE matches AS t SET
  odds_1 = CASE WHEN $2 THEN $3 ELSE t.odds_1 END,
  odds_x = CASE WHEN $4 THEN $5 ELSE t.odds_x END,
  odds_2 = CASE WHEN $6 THEN $7 ELSE t.odds_2 END,
  max_stake = CASE WHEN $8 THEN $9 ELSE t.max_stake END,
  max_liability = CASE WHEN $10 THEN $11 ELSE t.max_liability END,
  competition = CASE WHEN $15 THEN $16 ELSE t.competition END,
  odds_version = t.odds_version +
    CASE WHEN (CASE WHEN $2 THEN $3 ELSE t.odds_1 END) IS DISTINCT FROM t.odds_1
           OR (CASE WHEN $4 THEN $5 ELSE t.odds_x END) IS DISTINCT FROM t.odds_x
           OR (CASE WHEN $6 THEN $7 ELSE t.odds_2 END) IS DISTINCT FROM t.odds_2
         THEN 1 ELSE 0 END
FROM (SELECT id, odds_1, odds_x, odds_2, max_stake, max_liability, competition
      FROM matches WHERE id = $1 FOR UPDATE) AS old
WHERE t.id = old.id AND t.status <> 'settled'
RETURNING t.*,
  (old.odds_1, old.odds_x, old.odds_2, old.max_stake, old.max_liability, old.competition)
  IS DISTINCT FROM (t.odds_1, t.odds_x, t.odds_2, t.max_stake, t.max_liability, t.competition)
  AS changed
), a AS (
  INSERT INTO audit (actor, action, target, request_id, details)
  SELECT $12, 'match.update', 'match:' || id, $13, $14::jsonb
  FROM m WHERE $12::text IS NOT NULL AND changed
)
SELECT )sql" BETSDB_MATCH_COLUMNS " FROM m"};

// $5: 'match.suspend' or 'match.resume'.
constexpr pg::Statement kMoveStatus{"move_match_status", R"sql(
WITH m AS (
  UPDATE matches SET status = $3, odds_version = odds_version + 1
  WHERE id = $1 AND status = $2
  RETURNING *
), a AS (
  INSERT INTO audit (actor, action, target, request_id)
  SELECT $4, $5, 'match:' || id, $6 FROM m WHERE $4::text IS NOT NULL
)
SELECT )sql" BETSDB_MATCH_COLUMNS " FROM m"};

// A missing exposure row (a match inserted around the trigger) reads as no bets.
constexpr pg::Statement kExposure{"match_exposure", R"sql(
SELECT coalesce(e.bets, 0), coalesce(e.stake_1, 0), coalesce(e.stake_x, 0), coalesce(e.stake_2, 0),
       coalesce(e.payout_1, 0), coalesce(e.payout_x, 0), coalesce(e.payout_2, 0),
       m.max_stake, m.max_liability
FROM matches m LEFT JOIN match_exposure e ON e.match_id = m.id
WHERE m.id = $1)sql"};

std::optional<std::int64_t> cents(const std::optional<domain::Money>& money) {
  if (!money) return std::nullopt;
  return money->cents();
}

std::optional<std::int64_t> hundredths(const domain::OddsBook& book, domain::Selection s) {
  auto o = book.get(s);
  if (!o) return std::nullopt;
  return o->hundredths();
}

std::optional<std::string> actor_name(const std::optional<domain::Actor>& actor) {
  if (!actor) return std::nullopt;
  return actor->name;
}
std::optional<std::string> request_of(const std::optional<domain::Actor>& actor) {
  if (!actor) return std::nullopt;
  return actor->request_id;
}

// The first row as a match; nullopt when there is none.
Result<std::optional<domain::Match>> one_match(const Result<pg::Rows>& rows) {
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<domain::Match>{};
  BETSDB_TRY(auto match, match_from_row((*rows)[0]));
  return std::optional<domain::Match>{std::move(match)};
}

}  // namespace

Async<domain::Match> insert_match(pg::Pool& db, const domain::NewMatch& m) {
  using domain::Selection;
  auto rows = co_await db.execute(
      kInsertMatch,
      pg::params(m.team_1, m.team_2, timestamp_param(m.date), hundredths(m.odds, Selection::home),
                 hundredths(m.odds, Selection::draw), hundredths(m.odds, Selection::away),
                 cents(m.limits.max_stake), cents(m.limits.max_liability), actor_name(m.actor),
                 request_of(m.actor), m.competition, m.source_key));
  if (!rows.ok()) co_return std::move(rows).error();
  co_return match_from_row((*rows)[0]);
}

Async<std::optional<domain::Match>> find_match(pg::Pool& db, std::int64_t id) {
  auto rows = co_await db.execute(kFindMatch, pg::params(id));
  co_return one_match(rows);
}

Async<domain::ListPage<domain::Match>> list_matches(pg::Pool& db, const domain::MatchFilter& f,
                                                    domain::Page page) {
  std::optional<std::string> status;
  if (f.status) status = std::string(domain::to_string(*f.status));
  std::optional<std::string> from, to;
  if (f.from) from = timestamp_param(*f.from);
  if (f.to) to = timestamp_param(*f.to);
  const pg::Params filters =
      f.search ? pg::params(status, f.team, from, to, f.competition, pg::like_containing(*f.search))
               : pg::params(status, f.team, from, to, f.competition);
  pg::Params p = filters;
  p.emplace_back(std::to_string(page.limit));
  p.emplace_back(std::to_string(page.offset));
  const pg::Statement& statement = f.search
                                       ? (f.newest_first ? kSearchMatchesDesc : kSearchMatchesAsc)
                                       : (f.newest_first ? kListMatchesDesc : kListMatchesAsc);
  auto rows = co_await db.execute(statement, p);
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::Match> out;
  out.items.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    BETSDB_CO_TRY(auto match, match_from_row((*rows)[i]));
    out.items.push_back(std::move(match));
  }
  // A short page that has rows, or the first page, ends the list: its
  // total is known. A full page, or a page past the end, needs a count.
  const bool short_page = out.items.size() < static_cast<std::size_t>(page.limit);
  if (short_page && (!out.items.empty() || page.offset == 0)) {
    out.total = page.offset + static_cast<std::int64_t>(out.items.size());
  } else {
    auto count = co_await db.execute(f.search ? kCountSearch : kCountMatches, filters);
    if (!count.ok()) co_return std::move(count).error();
    out.total = (*count)[0].get<std::int64_t>(0);
  }
  co_return out;
}

Async<std::optional<domain::Match>> change_match_unless_settled(pg::Pool& db, std::int64_t id,
                                                                const domain::MatchChange& c) {
  using domain::Selection;
  const domain::OddsChange& odds = c.odds;
  auto rows = co_await db.execute(
      kUpdateMatch,
      pg::params(id, odds.touched[0], hundredths(odds.values, Selection::home), odds.touched[1],
                 hundredths(odds.values, Selection::draw), odds.touched[2],
                 hundredths(odds.values, Selection::away), c.max_stake.touched,
                 cents(c.max_stake.value), c.max_liability.touched, cents(c.max_liability.value),
                 actor_name(c.actor), request_of(c.actor), c.details, c.competition.touched,
                 c.competition.value));
  co_return one_match(rows);
}

Async<std::optional<domain::Match>> move_match_status(pg::Pool& db, std::int64_t id,
                                                      domain::MatchStatus from,
                                                      domain::MatchStatus to,
                                                      const std::optional<domain::Actor>& actor) {
  const std::string action =
      to == domain::MatchStatus::suspended ? "match.suspend" : "match.resume";
  auto rows =
      co_await db.execute(kMoveStatus, pg::params(id, std::string(domain::to_string(from)),
                                                  std::string(domain::to_string(to)),
                                                  actor_name(actor), action, request_of(actor)));
  co_return one_match(rows);
}

Async<std::optional<std::pair<domain::Exposure, domain::MatchLimits>>> match_exposure(
    pg::Pool& db, std::int64_t id) {
  using Found = std::optional<std::pair<domain::Exposure, domain::MatchLimits>>;
  auto rows = co_await db.execute(kExposure, pg::params(id));
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->empty()) co_return Found{};
  const pg::Row row = (*rows)[0];
  domain::Exposure exposure;
  exposure.bets = row.get<std::int64_t>(0);
  for (std::size_t i = 0; i < 3; ++i) {
    exposure.stakes[i] = domain::Money(row.get<std::int64_t>(static_cast<int>(1 + i)));
    exposure.payouts[i] = domain::Money(row.get<std::int64_t>(static_cast<int>(4 + i)));
  }
  domain::MatchLimits limits;
  if (auto c = row.get<std::optional<std::int64_t>>(7)) limits.max_stake = domain::Money(*c);
  if (auto c = row.get<std::optional<std::int64_t>>(8)) limits.max_liability = domain::Money(*c);
  co_return Found{std::pair{exposure, limits}};
}

}  // namespace betsdb::store
