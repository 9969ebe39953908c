// Settlement rules (API.md, POST /v1/matches/{id}/result): the admin enters a
// result "1", "X", "2" or "void"; each pending bet then becomes won (its
// selection is the result), lost (another selection) or void (the match was
// voided: every stake is refunded).
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "domain/bet.hpp"
#include "domain/selection.hpp"

namespace betsdb::domain {

// void_: `void` is a keyword.
enum class MatchResult { home, draw, away, void_ };

// "1", "X", "2", "void".
std::string_view to_string(MatchResult result) noexcept;
// Exact, case-sensitive.
std::optional<MatchResult> parse_match_result(std::string_view text) noexcept;

// The selection that wins under `result`; std::nullopt for void.
std::optional<Selection> winning_selection(MatchResult result) noexcept;

// The status a pending bet on `selection` takes when its match ends with `result`.
BetStatus settle(Selection selection, MatchResult result) noexcept;

}  // namespace betsdb::domain
