// Conversions between SQL rows and domain values shared by the stores.
// Timestamps travel as integer microseconds since the epoch (exact, and no
// text parsing); odds as integer hundredths; money as bigint minor units.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/entities.hpp"
#include "store/pg/rows.hpp"

namespace betsdb::store {

// SQL expression for a timestamptz column as epoch microseconds.
#define BETSDB_SQL_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"

inline domain::Timestamp timestamp_from_micros(std::int64_t micros) {
  return domain::Timestamp{std::chrono::microseconds{micros}};
}
std::string timestamp_param(domain::Timestamp t);  // RFC 3339, accepted by timestamptz

// Column order: id, team_1, team_2, starts_at_us, odds_1, odds_x, odds_2, status, result, created_at_us
#define BETSDB_MATCH_COLUMNS                                                          \
  "id, team_1, team_2, " BETSDB_SQL_MICROS("starts_at") ", odds_1, odds_x, odds_2, " \
  "status, result, " BETSDB_SQL_MICROS("created_at")
inline constexpr int kMatchColumnCount = 10;
domain::Match match_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, email, name, balance, created_at_us
#define BETSDB_USER_COLUMNS "id, email, name, balance, " BETSDB_SQL_MICROS("created_at")
domain::User user_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, kind, amount, bet_id, balance_after, created_at_us
#define BETSDB_LEDGER_COLUMNS \
  "id, kind, amount, bet_id, balance_after, " BETSDB_SQL_MICROS("created_at")
domain::LedgerEntry ledger_entry_from_row(const pg::Row& row, int first_column = 0);

// Column order: id, user_id, match_id, selection, stake, odds, potential_payout,
// status, created_at_us, settled_at_us
#define BETSDB_BET_COLUMNS                                                                  \
  "id, user_id, match_id, selection, stake, odds, potential_payout, status, " \
  BETSDB_SQL_MICROS("created_at") ", " BETSDB_SQL_MICROS("settled_at")
domain::Bet bet_from_row(const pg::Row& row, int first_column = 0);

}  // namespace betsdb::store
