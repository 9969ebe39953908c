#include "store/pg/bet_queries.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

// The filter, written twice per statement (for the count and for the page).
// A user's list has its own statements with `user_id = $1` required, so their
// generic plans always use the user index (an optional `$1 IS NULL OR ...`
// would hide it from a generic plan).
// match_id ($2) and selection ($4) also match an accumulator's legs: the
// same leg when both are given.
#define BETSDB_BET_FILTERS                                                                 \
  "(($2::bigint IS NULL OR match_id = $2) AND ($4::text IS NULL OR selection = $4) OR "    \
  "(legs_key IS NOT NULL AND ($2::bigint IS NOT NULL OR $4::text IS NOT NULL) AND "        \
  "EXISTS (SELECT 1 FROM bet_legs l WHERE l.bet_id = bets.id AND "                         \
  "($2::bigint IS NULL OR l.match_id = $2) AND ($4::text IS NULL OR l.selection = $4)))) " \
  "AND ($3::text IS NULL OR status = $3) AND ($5::bigint IS NULL OR stake >= $5) AND "     \
  "($6::bigint IS NULL OR stake <= $6)"
#define BETSDB_ALL_BETS "($1::bigint IS NULL) AND " BETSDB_BET_FILTERS
#define BETSDB_USER_BETS "user_id = $1 AND " BETSDB_BET_FILTERS

// One row even for an empty page (the total, and NULLs for the bet).
#define BETSDB_LIST_BETS_COUNTED_BY(count, where, order)                                       \
  "SELECT t.total, b.* FROM (" count                                                           \
  ") t "                                                                                       \
  "LEFT JOIN LATERAL (SELECT " BETSDB_BET_COLUMNS " FROM bets WHERE " where " ORDER BY " order \
  " LIMIT $7 OFFSET $8) b ON true"
#define BETSDB_LIST_BETS(where, order) \
  BETSDB_LIST_BETS_COUNTED_BY("SELECT count(*) AS total FROM bets WHERE " where, where, order)

// The admin's list filtered by nothing but maybe the status: its total is
// the summary's kept totals (db/migrations/010_bet_totals.sql) plus the
// unfolded changes, in the page's snapshot, instead of a count of every bet
// (about 400 ms at 10,000,000 bets). The other filters (a match or a
// selection also match accumulators' legs, stakes) still count.
#define BETSDB_KEPT_TOTAL                                                                       \
  "SELECT coalesce(sum(n), 0)::bigint AS total FROM (SELECT status, bets AS n FROM bet_totals " \
  "UNION ALL SELECT status, bets FROM bet_total_changes) k "                                    \
  "WHERE $3::text IS NULL OR status = $3"

#define BETSDB_ORDER_NEWEST "created_at DESC, id DESC"
#define BETSDB_ORDER_OLDEST "created_at ASC, id DESC"
#define BETSDB_ORDER_STAKE_ASC "stake ASC, id DESC"
#define BETSDB_ORDER_STAKE_DESC "stake DESC, id DESC"

constexpr std::array<pg::Statement, 4> kListAllBets{{
    {"list_bets_newest", BETSDB_LIST_BETS(BETSDB_ALL_BETS, BETSDB_ORDER_NEWEST)},
    {"list_bets_oldest", BETSDB_LIST_BETS(BETSDB_ALL_BETS, BETSDB_ORDER_OLDEST)},
    {"list_bets_stake_asc", BETSDB_LIST_BETS(BETSDB_ALL_BETS, BETSDB_ORDER_STAKE_ASC)},
    {"list_bets_stake_desc", BETSDB_LIST_BETS(BETSDB_ALL_BETS, BETSDB_ORDER_STAKE_DESC)},
}};

constexpr std::array<pg::Statement, 4> kListAllBetsKeptTotal{{
    {"list_bets_newest_kept_total",
     BETSDB_LIST_BETS_COUNTED_BY(BETSDB_KEPT_TOTAL, BETSDB_ALL_BETS, BETSDB_ORDER_NEWEST)},
    {"list_bets_oldest_kept_total",
     BETSDB_LIST_BETS_COUNTED_BY(BETSDB_KEPT_TOTAL, BETSDB_ALL_BETS, BETSDB_ORDER_OLDEST)},
    {"list_bets_stake_asc_kept_total",
     BETSDB_LIST_BETS_COUNTED_BY(BETSDB_KEPT_TOTAL, BETSDB_ALL_BETS, BETSDB_ORDER_STAKE_ASC)},
    {"list_bets_stake_desc_kept_total",
     BETSDB_LIST_BETS_COUNTED_BY(BETSDB_KEPT_TOTAL, BETSDB_ALL_BETS, BETSDB_ORDER_STAKE_DESC)},
}};

constexpr std::array<pg::Statement, 4> kListUserBets{{
    {"list_user_bets_newest", BETSDB_LIST_BETS(BETSDB_USER_BETS, BETSDB_ORDER_NEWEST)},
    {"list_user_bets_oldest", BETSDB_LIST_BETS(BETSDB_USER_BETS, BETSDB_ORDER_OLDEST)},
    {"list_user_bets_stake_asc", BETSDB_LIST_BETS(BETSDB_USER_BETS, BETSDB_ORDER_STAKE_ASC)},
    {"list_user_bets_stake_desc", BETSDB_LIST_BETS(BETSDB_USER_BETS, BETSDB_ORDER_STAKE_DESC)},
}};

// From the kept totals (db/migrations/010_bet_totals.sql) plus the changes
// not folded into them yet, in one snapshot, so the figures are exact at
// every moment and cost the same at any number of bets. The result rows keep
// the shape of GROUPING(type, status, selection, match_id): bits type 8,
// status 4, selection 2, match_id 1 (set bit = not grouped). An accumulator
// has no match nor selection: its NULLs there are dropped from by_selection
// and top_matches, which count singles only.
constexpr int kByStatus = 11;     // grouped by status only
constexpr int kBySelection = 13;  // by selection only
constexpr int kByMatch = 14;      // by match only
constexpr int kByType = 7;        // by type only
constexpr int kOverall = 15;

// top_matches: a match in the top ten with no unfolded change keeps its
// folded total, and at most k of the matches ranked above it in the folded
// order have unfolded changes (k: how many matches have any), so it is among
// the first 10 + k folded ones. The candidates are those plus the matches with
// unfolded changes; this holds whichever way a change moves a total (SQL
// typed by hand may delete a bet).
constexpr pg::Statement kSummary{"bet_summary", R"sql(
WITH unfolded AS (
  SELECT type, match_id, selection, status, bets, stake FROM bet_total_changes
), fine AS (
  SELECT type, nullif(selection, '') AS selection, status,
         sum(bets)::bigint AS bets, sum(stake)::bigint AS stake
  FROM (SELECT type, selection, status, bets, stake FROM bet_totals
        UNION ALL
        SELECT type, coalesce(selection, ''), status, bets, stake FROM unfolded) AS t
  GROUP BY type, selection, status
), unfolded_matches AS (
  SELECT match_id, sum(bets)::bigint AS bets, sum(stake)::bigint AS stake
  FROM unfolded WHERE type = 'single' GROUP BY match_id
), candidates AS (
  (SELECT match_id FROM match_bet_totals ORDER BY stake DESC, match_id
   LIMIT 10 + (SELECT count(*) FROM unfolded_matches))
  UNION
  SELECT match_id FROM unfolded_matches
)
(SELECT GROUPING(type, status, selection) * 2 + 1 AS grouping_id, status, selection,
        NULL::bigint AS match_id, coalesce(sum(bets), 0)::bigint, coalesce(sum(stake), 0)::bigint,
        type
 FROM fine
 GROUP BY GROUPING SETS ((type), (status), (selection), ())
 HAVING NOT (GROUPING(type, status, selection) = 6 AND selection IS NULL))
UNION ALL
(SELECT 14, NULL, NULL, c.match_id, coalesce(t.bets, 0) + coalesce(u.bets, 0),
        coalesce(t.stake, 0) + coalesce(u.stake, 0), NULL
 FROM candidates c
 LEFT JOIN match_bet_totals t ON t.match_id = c.match_id
 LEFT JOIN unfolded_matches u ON u.match_id = c.match_id
 WHERE coalesce(t.bets, 0) + coalesce(u.bets, 0) > 0
 ORDER BY 6 DESC, 4 ASC LIMIT 10))sql"};

std::size_t sort_index(domain::BetSort sort) {
  return static_cast<std::size_t>(sort);
}

}  // namespace

Async<domain::ListPage<domain::Bet>> list_bets(pg::Pool& db, const domain::BetFilter& f,
                                               domain::Page page) {
  const bool kept_total = !f.user_id && !f.match_id && !f.selection && !f.min_stake && !f.max_stake;
  const auto& statements = f.user_id    ? kListUserBets
                           : kept_total ? kListAllBetsKeptTotal
                                        : kListAllBets;
  const pg::Statement& statement = statements[sort_index(f.sort)];
  std::optional<std::string> status;
  if (f.status) status = std::string(domain::to_string(*f.status));
  std::optional<std::string> selection;
  if (f.selection) selection = std::string(domain::to_string(*f.selection));
  auto rows = co_await db.execute(
      statement, pg::params(f.user_id, f.match_id, std::move(status), std::move(selection),
                            f.min_stake, f.max_stake, std::int64_t{page.limit}, page.offset));
  if (!rows.ok()) co_return std::move(rows).error();
  domain::ListPage<domain::Bet> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const pg::Row row = (*rows)[i];
    out.total = row.get<std::int64_t>(0);
    if (!row.get<std::optional<std::int64_t>>(1)) continue;  // empty page
    BETSDB_CO_TRY(auto bet, bet_from_row(row, 1));
    out.items.push_back(std::move(bet));
  }
  co_return out;
}

Async<domain::BetSummary> bet_summary(pg::Pool& db) {
  const pg::Params none;
  auto rows = co_await db.execute(kSummary, none);
  if (!rows.ok()) co_return std::move(rows).error();
  domain::BetSummary out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const pg::Row row = (*rows)[i];
    const int grouping = static_cast<int>(row.get<std::int64_t>(0));
    const domain::CountAndStake figures{row.get<std::int64_t>(4), row.get<std::int64_t>(5)};
    switch (grouping) {
      case kByStatus: {
        const auto text = row.get<std::string_view>(1);
        const auto s = domain::parse_bet_status(text);
        if (!s) co_return unexpected_stored_value("bets.status", text);
        out.by_status[static_cast<std::size_t>(*s)] = figures;
        break;
      }
      case kBySelection: {
        const auto text = row.get<std::string_view>(2);
        const auto s = domain::parse_selection(text);
        if (!s) co_return unexpected_stored_value("bets.selection", text);
        out.by_selection[domain::index_of(*s)] = figures;
        break;
      }
      case kByMatch:
        out.top_matches.push_back({row.get<std::int64_t>(3), figures.count, figures.stake});
        break;
      case kByType: {
        const auto text = row.get<std::string_view>(6);
        const auto t = domain::parse_bet_type(text);
        if (!t) co_return unexpected_stored_value("bets.type", text);
        out.by_type[static_cast<std::size_t>(*t)] = figures;
        break;
      }
      case kOverall:
        out.total = figures;
        break;
      default:
        break;
    }
  }
  co_return out;
}

}  // namespace betsdb::store
