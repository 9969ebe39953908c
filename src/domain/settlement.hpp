// Settlement rules (API.md, POST /v1/matches/{id}/result): the admin enters a
// result "1", "X", "2" or "void"; each pending bet then becomes won (its
// selection is the result), lost (another selection) or void (the match was
// voided: every stake is refunded).
//
// Thread-safety: plain enums and pure functions.
#pragma once

#include <array>
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

// What a settled bet earns: its potential payout when won, its stake back
// when void, nothing when lost (a ledger row of kind "payout" or "refund").
enum class Credit { none, payout, refund };
Credit credit_for(BetStatus settled) noexcept;

// Settlement of a whole match as data, so the store can apply it to every
// pending bet in one set-based statement: per selection (by index_of), the
// status its bets take and what they earn.
struct SettlementPlan {
  std::array<BetStatus, 3> status{};
  std::array<Credit, 3> credit{};
};
SettlementPlan plan_settlement(MatchResult result) noexcept;

}  // namespace betsdb::domain
