#include "store/pg/row_mapping.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <charconv>

namespace betsdb::store {

std::string timestamp_param(domain::Timestamp t) {
  return domain::format_rfc3339(t);
}

Error unexpected_stored_value(std::string_view column, std::optional<std::string_view> value,
                              std::optional<std::int64_t> row_id) {
  // A wrong column (a mistyped SELECT list) could be long; its start identifies it.
  constexpr std::size_t kShown = 64;
  // Formatted, not concatenated: g++ 12 at -O2 warns (-Wstringop-overflow, a
  // false positive) on the inlined `"'" + std::string(...)`.
  const std::string shown =
      value ? fmt::format("'{}'{}", value->substr(0, kShown), value->size() > kShown ? "..." : "")
            : std::string("NULL");
  std::string detail = fmt::format("unexpected value in {}", column);
  if (row_id) detail += fmt::format(" of id {}", *row_id);
  detail += fmt::format(": {}", shown);
  spdlog::error("database row refused: {}", detail);
  return Error::internal(std::move(detail));
}

namespace {

std::optional<std::string_view> raw(const pg::Row& row, int col) {
  if (row.is_null(col)) return std::nullopt;
  return row.text(col);
}

template <class T>
Result<T> enum_column(const pg::Row& row, int col,
                      std::optional<T> (*parse)(std::string_view) noexcept, std::string_view column,
                      std::int64_t row_id) {
  if (!row.is_null(col)) {
    if (auto value = parse(row.text(col))) return *value;
  }
  return unexpected_stored_value(column, raw(row, col), row_id);
}

// A NULL here means "not offered", which a match may say of a selection.
Result<std::optional<domain::Odds>> offered_odds(const pg::Row& row, int col,
                                                 std::string_view column, std::int64_t row_id) {
  if (row.is_null(col)) return std::optional<domain::Odds>{};
  BETSDB_TRY(domain::Odds odds, odds_from_column(row, col, column, row_id));
  return std::optional<domain::Odds>{odds};
}

}  // namespace

Result<domain::Odds> odds_from_column(const pg::Row& row, int col, std::string_view column,
                                      std::optional<std::int64_t> row_id) {
  if (auto v = row.get<std::optional<std::int64_t>>(col)) {
    if (auto odds = domain::odds_from_hundredths(*v, column); odds.ok()) return *odds;
  }
  return unexpected_stored_value(column, raw(row, col), row_id);
}

Result<domain::Match> match_from_row(const pg::Row& row, int c) {
  domain::Match m;
  m.id = row.get<std::int64_t>(c + 0);
  m.team_1 = row.get<std::string>(c + 1);
  m.team_2 = row.get<std::string>(c + 2);
  m.date = timestamp_from_micros(row.get<std::int64_t>(c + 3));
  BETSDB_TRY(auto home, offered_odds(row, c + 4, "matches.odds_1", m.id));
  BETSDB_TRY(auto draw, offered_odds(row, c + 5, "matches.odds_x", m.id));
  BETSDB_TRY(auto away, offered_odds(row, c + 6, "matches.odds_2", m.id));
  m.odds.set(domain::Selection::home, home);
  m.odds.set(domain::Selection::draw, draw);
  m.odds.set(domain::Selection::away, away);
  BETSDB_TRY(m.status,
             enum_column(row, c + 7, &domain::parse_match_status, "matches.status", m.id));
  if (!row.is_null(c + 8)) {
    BETSDB_TRY(m.result,
               enum_column(row, c + 8, &domain::parse_match_result, "matches.result", m.id));
  }
  m.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 9));
  m.odds_version = row.get<std::int64_t>(c + 10);
  if (auto cents = row.get<std::optional<std::int64_t>>(c + 11)) {
    m.limits.max_stake = domain::Money(*cents);
  }
  if (auto cents = row.get<std::optional<std::int64_t>>(c + 12)) {
    m.limits.max_liability = domain::Money(*cents);
  }
  m.competition = row.get<std::optional<std::string>>(c + 13);
  return m;
}

domain::User user_from_row(const pg::Row& row, int c) {
  domain::User u;
  u.id = row.get<std::int64_t>(c + 0);
  u.email = row.get<std::string>(c + 1);
  u.name = row.get<std::string>(c + 2);
  u.balance = domain::Money(row.get<std::int64_t>(c + 3));
  u.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 4));
  return u;
}

Result<domain::LedgerEntry> ledger_entry_from_row(const pg::Row& row, int c) {
  domain::LedgerEntry e;
  e.id = row.get<std::int64_t>(c + 0);
  BETSDB_TRY(e.kind, enum_column(row, c + 1, &domain::parse_ledger_kind, "ledger.kind", e.id));
  e.amount = row.get<std::int64_t>(c + 2);
  e.bet_id = row.get<std::optional<std::int64_t>>(c + 3);
  e.balance_after = domain::Money(row.get<std::int64_t>(c + 4));
  e.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 5));
  return e;
}

namespace {

// One leg of the legs column: "match:selection:odds:version:status".
Result<domain::Leg> leg_from_text(std::string_view text, std::int64_t bet_id) {
  std::array<std::string_view, 5> parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto colon = i + 1 < parts.size() ? text.find(':') : std::string_view::npos;
    if (i + 1 < parts.size() && colon == std::string_view::npos) {
      return unexpected_stored_value("bet_legs", text, bet_id);
    }
    parts[i] = text.substr(0, colon);
    text = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  }
  domain::Leg leg;
  std::int64_t odds = 0;
  auto number = [](std::string_view digits, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size();
  };
  const auto selection = domain::parse_selection(parts[1]);
  const auto status = domain::parse_bet_status(parts[4]);
  if (!number(parts[0], leg.match_id) || !selection || !number(parts[2], odds) ||
      !number(parts[3], leg.odds_version) || !status) {
    return unexpected_stored_value("bet_legs", parts[0], bet_id);
  }
  auto checked = domain::odds_from_hundredths(odds, "bet_legs.odds");
  if (!checked.ok()) return unexpected_stored_value("bet_legs.odds", parts[2], bet_id);
  leg.selection = *selection;
  leg.odds = *checked;
  leg.status = *status;
  return leg;
}

}  // namespace

Result<domain::Bet> bet_from_row(const pg::Row& row, int c) {
  domain::Bet b;
  b.id = row.get<std::int64_t>(c + 0);
  b.user_id = row.get<std::int64_t>(c + 1);
  BETSDB_TRY(b.type, enum_column(row, c + 11, &domain::parse_bet_type, "bets.type", b.id));
  b.stake = domain::Money(row.get<std::int64_t>(c + 4));
  b.potential_payout = domain::Money(row.get<std::int64_t>(c + 6));
  BETSDB_TRY(b.status, enum_column(row, c + 7, &domain::parse_bet_status, "bets.status", b.id));
  b.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 8));
  if (auto s = row.get<std::optional<std::int64_t>>(c + 9))
    b.settled_at = timestamp_from_micros(*s);
  if (auto cents = row.get<std::optional<std::int64_t>>(c + 13)) {
    b.cash_out_amount = domain::Money(*cents);
  }
  if (b.type == domain::BetType::single) {
    b.match_id = row.get<std::int64_t>(c + 2);
    BETSDB_TRY(b.selection,
               enum_column(row, c + 3, &domain::parse_selection, "bets.selection", b.id));
    BETSDB_TRY(b.odds, odds_from_column(row, c + 5, "bets.odds", b.id));
    b.odds_version = row.get<std::optional<std::int64_t>>(c + 10);
    return b;
  }
  b.combined_odds_hundredths = row.get<std::int64_t>(c + 12);
  std::string_view legs = row.get<std::string_view>(c + 14);
  while (!legs.empty()) {
    const auto comma = legs.find(',');
    BETSDB_TRY(auto leg, leg_from_text(legs.substr(0, comma), b.id));
    b.legs.push_back(leg);
    legs = comma == std::string_view::npos ? std::string_view{} : legs.substr(comma + 1);
  }
  return b;
}

}  // namespace betsdb::store
