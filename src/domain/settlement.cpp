#include "domain/settlement.hpp"

namespace betsdb::domain {

std::string_view to_string(MatchResult result) noexcept {
  switch (result) {
    case MatchResult::home:
      return "1";
    case MatchResult::draw:
      return "X";
    case MatchResult::away:
      return "2";
    case MatchResult::void_:
      return "void";
  }
  return "?";  // unreachable for a valid enumerator
}

std::optional<MatchResult> parse_match_result(std::string_view text) noexcept {
  if (text == "1") return MatchResult::home;
  if (text == "X") return MatchResult::draw;
  if (text == "2") return MatchResult::away;
  if (text == "void") return MatchResult::void_;
  return std::nullopt;
}

std::optional<Selection> winning_selection(MatchResult result) noexcept {
  switch (result) {
    case MatchResult::home:
      return Selection::home;
    case MatchResult::draw:
      return Selection::draw;
    case MatchResult::away:
      return Selection::away;
    case MatchResult::void_:
      return std::nullopt;
  }
  return std::nullopt;
}

BetStatus settle(Selection selection, MatchResult result) noexcept {
  const auto winner = winning_selection(result);
  if (!winner) return BetStatus::void_;
  return *winner == selection ? BetStatus::won : BetStatus::lost;
}

Credit credit_for(BetStatus settled) noexcept {
  switch (settled) {
    case BetStatus::won:
      return Credit::payout;
    case BetStatus::void_:
      return Credit::refund;
    case BetStatus::pending:
    case BetStatus::lost:
    case BetStatus::cashed_out:  // credited when it was cashed out
      return Credit::none;
  }
  return Credit::none;
}

SettlementPlan plan_settlement(MatchResult result) noexcept {
  SettlementPlan plan;
  for (Selection selection : kAllSelections) {
    const BetStatus status = settle(selection, result);
    plan.status[index_of(selection)] = status;
    plan.credit[index_of(selection)] = credit_for(status);
  }
  return plan;
}

}  // namespace betsdb::domain
