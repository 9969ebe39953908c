#include "domain/match.hpp"

namespace betsdb::domain {

std::string_view to_string(MatchStatus status) noexcept {
  switch (status) {
    case MatchStatus::open:
      return "open";
    case MatchStatus::suspended:
      return "suspended";
    case MatchStatus::settled:
      return "settled";
  }
  return "?";  // unreachable for a valid enumerator
}

std::optional<MatchStatus> parse_match_status(std::string_view text) noexcept {
  if (text == "open") return MatchStatus::open;
  if (text == "suspended") return MatchStatus::suspended;
  if (text == "settled") return MatchStatus::settled;
  return std::nullopt;
}

}  // namespace betsdb::domain
