#include "store/pg/accumulator_rows.hpp"

#include "store/pg/row_mapping.hpp"

namespace betsdb::store {

domain::AccumulatorPlacement accumulator_placement(const pg::Rows& rows, std::size_t first,
                                                   std::int64_t user_id,
                                                   const domain::AccumulatorItem& item) {
  domain::AccumulatorPlacement out;
  const pg::Row head = rows[first];
  if (auto id = head.get<std::optional<std::int64_t>>(4)) {
    domain::Bet bet;
    bet.id = *id;
    bet.user_id = user_id;
    bet.type = domain::BetType::accumulator;
    bet.stake = item.stake;
    bet.potential_payout = item.potential_payout;
    bet.combined_odds_hundredths = item.combined_odds_hundredths;
    bet.created_at = timestamp_from_micros(head.get<std::int64_t>(5));
    bet.legs = item.legs;
    for (std::size_t i = 0; i < bet.legs.size(); ++i) {
      bet.legs[i].odds_version = rows[first + i].get<std::int64_t>(7);
      bet.legs[i].status = domain::BetStatus::pending;
    }
    out.balance = domain::Money(head.get<std::int64_t>(3));
    out.user_email = head.get<std::string>(6);
    out.bet = std::move(bet);
    return out;
  }
  out.duplicate = head.get<bool>(2);
  out.funds_short = head.get<bool>(8);
  out.stake_limit_short = head.get<std::optional<bool>>(9).value_or(false);
  if (auto paused = head.get<std::optional<std::int64_t>>(10))
    out.paused_until = timestamp_from_micros(*paused);
  for (std::size_t i = 0; i < item.legs.size(); ++i) {
    const pg::Row row = rows[first + i];
    if (!row.get<bool>(0)) {
      out.leg_problems.push_back(domain::ItemProblem::match_not_found);
    } else if (!row.get<bool>(1)) {
      out.leg_problems.push_back(domain::ItemProblem::repriced);
    } else {
      out.leg_problems.push_back(domain::ItemProblem::none);
    }
  }
  return out;
}

}  // namespace betsdb::store
