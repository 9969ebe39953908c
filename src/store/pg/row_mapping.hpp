// Conversions between SQL rows and domain values shared by the stores.
// Timestamps travel as integer microseconds since the epoch (exact, and no
// text parsing); odds as integer hundredths; money as bigint minor units.
//
// A stored status, selection, result, ledger kind or odds that the domain does
// not know (the schema's CHECK constraints should make that impossible) is
// never replaced by a default: a guess would be shown to a client or acted on
// (a bet read as pending, odds as 1.01). The mapping logs it once and returns
// Errc::internal naming the column and the value; callers pass that up, and
// the client gets a generic 500.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/entities.hpp"
#include "store/pg/rows.hpp"
#include "util/result.hpp"

namespace betsdb::store {

// SQL expression for a timestamptz column as epoch microseconds.
#define BETSDB_SQL_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"

inline domain::Timestamp timestamp_from_micros(std::int64_t micros) {
  return domain::Timestamp{std::chrono::microseconds{micros}};
}
std::string timestamp_param(domain::Timestamp t);  // RFC 3339, accepted by timestamptz

// Column order: id, team_1, team_2, starts_at_us, odds_1, odds_x, odds_2, status, result,
// created_at_us, odds_version, max_stake, max_liability, competition
#define BETSDB_MATCH_COLUMNS \
  "id, team_1, team_2, " BETSDB_SQL_MICROS("starts_at") ", odds_1, odds_x, odds_2, " \
  "status, result, " BETSDB_SQL_MICROS("created_at") ", odds_version, max_stake, max_liability, " \
  "competition"
Result<domain::Match> match_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, email, name, balance, created_at_us
#define BETSDB_USER_COLUMNS "id, email, name, balance, " BETSDB_SQL_MICROS("created_at")
inline constexpr int kUserColumnCount = 5;
domain::User user_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, kind, amount, bet_id, balance_after, created_at_us
#define BETSDB_LEDGER_COLUMNS \
  "id, kind, amount, bet_id, balance_after, " BETSDB_SQL_MICROS("created_at")
Result<domain::LedgerEntry> ledger_entry_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, user_id, match_id, selection, stake, odds, potential_payout,
// status, created_at_us, settled_at_us, odds_version
// An accumulator's legs come as one text column, "match:selection:odds:
// version:status" per leg, comma-separated in the order given (NULL for a
// single, whose subquery never runs).
#define BETSDB_BET_COLUMNS \
  "id, user_id, match_id, selection, stake, odds, potential_payout, status, " BETSDB_SQL_MICROS( \
      "created_at") ", " BETSDB_SQL_MICROS("settled_at") ", odds_version, type, combined_odds, "  \
                        "cash_out_amount, CASE WHEN type = 'accumulator' THEN (SELECT "            \
                        "string_agg(l.match_id || ':' || l.selection || ':' || l.odds || ':' || "   \
                        "l.odds_version || ':' || l.status, ',' ORDER BY l.position) FROM "         \
                        "bet_legs l WHERE l.bet_id = bets.id) END"
Result<domain::Bet> bet_from_row(const pg::Row& row, int first_column = 0);

// For columns outside the sets above: logs and returns the error. `column`
// names it, e.g. "bets.status"; `value` is its text (std::nullopt: NULL);
// `row_id` is the row's id when there is one.
Error unexpected_stored_value(std::string_view column, std::optional<std::string_view> value,
                              std::optional<std::int64_t> row_id = std::nullopt);
// Stored odds (integer hundredths, not NULL) within the domain's range.
Result<domain::Odds> odds_from_column(const pg::Row& row, int col, std::string_view column,
                                      std::optional<std::int64_t> row_id = std::nullopt);

}  // namespace betsdb::store
