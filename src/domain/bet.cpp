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
  }
  return "?";  // unreachable for a valid enumerator
}

std::optional<BetStatus> parse_bet_status(std::string_view text) noexcept {
  if (text == "pending") return BetStatus::pending;
  if (text == "won") return BetStatus::won;
  if (text == "lost") return BetStatus::lost;
  if (text == "void") return BetStatus::void_;
  return std::nullopt;
}

}  // namespace betsdb::domain
