// The life of a bet: pending until its match is settled, then won, lost or void
// (API.md, "Bets"). Wire names are the contract's status strings.
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace betsdb::domain {

// void_: `void` is a keyword.
enum class BetStatus { pending, won, lost, void_ };

// "pending", "won", "lost", "void".
std::string_view to_string(BetStatus status) noexcept;
// Exact, case-sensitive.
std::optional<BetStatus> parse_bet_status(std::string_view text) noexcept;

}  // namespace betsdb::domain
