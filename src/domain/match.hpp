// A match's stored status and whether it takes bets (API.md, "Matches"):
// open for betting while status == open and now < date.
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "domain/timestamp.hpp"

namespace betsdb::domain {

enum class MatchStatus { open, settled };

// "open", "settled".
std::string_view to_string(MatchStatus status) noexcept;
// Exact, case-sensitive.
std::optional<MatchStatus> parse_match_status(std::string_view text) noexcept;

// A match on or after its start time is closed even while its stored status is
// still open: bets must be placed strictly before kick-off.
constexpr bool open_for_betting(MatchStatus status, Timestamp match_date, Timestamp now) noexcept {
  return status == MatchStatus::open && now < match_date;
}

}  // namespace betsdb::domain
