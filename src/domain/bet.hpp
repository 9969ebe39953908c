// The life of a bet: pending until its match (or every leg of an
// accumulator) is settled, then won, lost or void, or cashed out early
// (API.md, "Bets", "Accumulators", "Cash-out"). Wire names are the
// contract's strings.
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace betsdb::domain {

// void_: `void` is a keyword.
enum class BetStatus { pending, won, lost, void_, cashed_out };
inline constexpr std::size_t kBetStatusCount = 5;

// "pending", "won", "lost", "void", "cashed_out".
std::string_view to_string(BetStatus status) noexcept;
// Exact, case-sensitive.
std::optional<BetStatus> parse_bet_status(std::string_view text) noexcept;

enum class BetType { single, accumulator };
inline constexpr std::size_t kBetTypeCount = 2;

// "single", "accumulator".
std::string_view to_string(BetType type) noexcept;
std::optional<BetType> parse_bet_type(std::string_view text) noexcept;

}  // namespace betsdb::domain
