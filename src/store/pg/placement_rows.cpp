#include "store/pg/placement_rows.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

namespace {

domain::ItemProblem problem_of(const pg::Row& row) {
  if (!row.get<bool>(0)) return domain::ItemProblem::match_not_found;
  if (!row.get<bool>(1)) return domain::ItemProblem::repriced;
  if (row.get<bool>(2)) return domain::ItemProblem::duplicate_bet;
  if (!row.get<bool>(7)) return domain::ItemProblem::liability_limit_exceeded;
  return domain::ItemProblem::none;
}

}  // namespace

bool item_placed(const pg::Row& row) {
  return row.get<std::optional<std::int64_t>>(4).has_value();
}

void add_item_row(domain::Placement& out, const pg::Row& row, std::int64_t user_id,
                  const domain::BetItem& item, bool placed) {
  if (!placed) {
    out.problems.push_back(problem_of(row));
    out.funds_short = row.get<bool>(9);
    out.stake_limit_short = row.get<std::optional<bool>>(10).value_or(false);
    if (auto paused = row.get<std::optional<std::int64_t>>(11))
      out.paused_until = timestamp_from_micros(*paused);
    return;
  }
  domain::Bet bet;
  bet.id = row.get<std::int64_t>(4);
  bet.user_id = user_id;
  bet.match_id = item.match_id;
  bet.selection = item.selection;
  bet.stake = item.stake;
  bet.odds = item.odds;
  bet.potential_payout = item.potential_payout;
  bet.status = domain::BetStatus::pending;
  bet.created_at = timestamp_from_micros(row.get<std::int64_t>(5));
  bet.odds_version = row.get<std::int64_t>(8);
  out.balance = domain::Money(row.get<std::int64_t>(3));
  if (out.bets.empty()) out.user_email = row.get<std::string>(6);
  out.bets.push_back(std::move(bet));
}

}  // namespace betsdb::store
