// A match's stored status and whether it takes bets (API.md, "Matches" and,
// in Part 2, "Suspension"): a match is closed for betting once it is settled
// or its date has passed; a suspended match that is not closed takes no bets
// until it is resumed.
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "domain/timestamp.hpp"

namespace betsdb::domain {

enum class MatchStatus { open, suspended, settled };

// "open", "suspended", "settled".
std::string_view to_string(MatchStatus status) noexcept;
// Exact, case-sensitive.
std::optional<MatchStatus> parse_match_status(std::string_view text) noexcept;

// Whether a match takes bets now, and if not, why: closed wins over
// suspended (a suspended match whose date has passed is closed).
enum class BettingState { open, suspended, closed };

// Bets must be placed strictly before kick-off.
constexpr BettingState betting_state(MatchStatus status, Timestamp match_date,
                                     Timestamp now) noexcept {
  if (status == MatchStatus::settled || now >= match_date) return BettingState::closed;
  if (status == MatchStatus::suspended) return BettingState::suspended;
  return BettingState::open;
}

constexpr bool open_for_betting(MatchStatus status, Timestamp match_date, Timestamp now) noexcept {
  return betting_state(status, match_date, now) == BettingState::open;
}

// Whether an operator may still change the match's prices and limits:
// while it is open or suspended, not once it is closed.
constexpr bool tradable(MatchStatus status, Timestamp match_date, Timestamp now) noexcept {
  return betting_state(status, match_date, now) != BettingState::closed;
}

}  // namespace betsdb::domain
