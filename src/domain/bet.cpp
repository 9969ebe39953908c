#include "domain/bet.hpp"

namespace betsdb::domain {

std::string_view to_string(BetStatus status) noexcept {
  switch (status) {
    case BetStatus::pending:
      return "pending";
    case BetStatus::won:
      return "won";
    case BetStatus::lost:
      return "lost";
    case BetStatus::void_:
      return "void";
    case BetStatus::cashed_out:
      return "cashed_out";
  }
  return "?";  // unreachable for a valid enumerator
}

std::optional<BetStatus> parse_bet_status(std::string_view text) noexcept {
  if (text == "pending") return BetStatus::pending;
  if (text == "won") return BetStatus::won;
  if (text == "lost") return BetStatus::lost;
  if (text == "void") return BetStatus::void_;
  if (text == "cashed_out") return BetStatus::cashed_out;
  return std::nullopt;
}

std::string_view to_string(BetType type) noexcept {
  return type == BetType::accumulator ? "accumulator" : "single";
}

std::optional<BetType> parse_bet_type(std::string_view text) noexcept {
  if (text == "single") return BetType::single;
  if (text == "accumulator") return BetType::accumulator;
  return std::nullopt;
}

}  // namespace betsdb::domain
