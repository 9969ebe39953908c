#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

std::string timestamp_param(domain::Timestamp t) { return domain::format_rfc3339(t); }

namespace {
std::optional<domain::Odds> odds_column(const pg::Row& row, int col) {
  auto v = row.get<std::optional<std::int64_t>>(col);
  if (!v) return std::nullopt;
  auto odds = domain::odds_from_hundredths(*v, "odds");
  // The table's CHECK constraint guarantees the range; a failure is a bug.
  if (!odds.ok()) return std::nullopt;
  return *odds;
}
}  // namespace

domain::Match match_from_row(const pg::Row& row, int c) {
  domain::Match m;
  m.id = row.get<std::int64_t>(c + 0);
  m.team_1 = row.get<std::string>(c + 1);
  m.team_2 = row.get<std::string>(c + 2);
  m.date = timestamp_from_micros(row.get<std::int64_t>(c + 3));
  m.odds.set(domain::Selection::home, odds_column(row, c + 4));
  m.odds.set(domain::Selection::draw, odds_column(row, c + 5));
  m.odds.set(domain::Selection::away, odds_column(row, c + 6));
  m.status = domain::parse_match_status(row.get<std::string>(c + 7)).value_or(domain::MatchStatus::open);
  if (auto r = row.get<std::optional<std::string>>(c + 8)) m.result = domain::parse_match_result(*r);
  m.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 9));
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

domain::LedgerEntry ledger_entry_from_row(const pg::Row& row, int c) {
  domain::LedgerEntry e;
  e.id = row.get<std::int64_t>(c + 0);
  e.kind = domain::parse_ledger_kind(row.get<std::string>(c + 1)).value_or(domain::LedgerKind::deposit);
  e.amount = row.get<std::int64_t>(c + 2);
  e.bet_id = row.get<std::optional<std::int64_t>>(c + 3);
  e.balance_after = domain::Money(row.get<std::int64_t>(c + 4));
  e.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 5));
  return e;
}

domain::Bet bet_from_row(const pg::Row& row, int c) {
  domain::Bet b;
  b.id = row.get<std::int64_t>(c + 0);
  b.user_id = row.get<std::int64_t>(c + 1);
  b.match_id = row.get<std::int64_t>(c + 2);
  b.selection = domain::parse_selection(row.get<std::string_view>(c + 3)).value_or(domain::Selection::home);
  b.stake = domain::Money(row.get<std::int64_t>(c + 4));
  b.odds = odds_column(row, c + 5).value_or(domain::Odds{});
  b.potential_payout = domain::Money(row.get<std::int64_t>(c + 6));
  b.status = domain::parse_bet_status(row.get<std::string_view>(c + 7)).value_or(domain::BetStatus::pending);
  b.created_at = timestamp_from_micros(row.get<std::int64_t>(c + 8));
  if (auto s = row.get<std::optional<std::int64_t>>(c + 9)) b.settled_at = timestamp_from_micros(*s);
  return b;
}

}  // namespace betsdb::store
