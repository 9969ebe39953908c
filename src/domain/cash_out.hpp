// Cash-out (API.md Part 2, "Cash-out"): what the book pays now to settle a
// pending bet early, from the odds the bettor took and the odds offered now,
// less the book's margin, computed exactly and rounded down once.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/entities.hpp"

namespace betsdb::domain {

// The book's margin on a cash-out, in basis points (0.05 = 500).
class Margin final {
 public:
  constexpr Margin() noexcept = default;  // 5%, the default
  constexpr std::int64_t basis_points() const noexcept { return basis_points_; }
  friend constexpr bool operator==(Margin, Margin) noexcept = default;

  // A fraction in [0, 1) with at most 4 decimals: "0.05", "0", "0.1234".
  static std::optional<Margin> parse(std::string_view text) noexcept;

 private:
  constexpr explicit Margin(std::int64_t bp) noexcept : basis_points_(bp) {}
  std::int64_t basis_points_ = 500;
};

// A leg as the quote sees it: the odds taken, its status, and (pending legs
// only) the odds its match offers now. A single is one pending leg.
struct CashOutLeg {
  Odds taken;
  BetStatus status = BetStatus::pending;
  Odds current;
};

// floor(stake x prod(won legs' taken) x prod(pending legs' taken / current)
// x (1 - margin)); void legs count 1. The caller has checked that no leg is lost.
Money cash_out_amount(Money stake, std::span<const CashOutLeg> legs, Margin margin);

// A leg the quote priced as pending: its match and that match's odds_version.
struct QuotedLeg {
  std::int64_t match_id = 0;
  std::int64_t odds_version = 0;
};

struct CashOutOrder {
  std::int64_t bet_id = 0;
  std::int64_t user_id = 0;
  Money amount;
  std::vector<QuotedLeg> pending_legs;
};

enum class CashOutProblem { none, bet_not_found, already_settled, odds_changed };

struct CashedOut {
  CashOutProblem problem = CashOutProblem::none;
  std::optional<Bet> bet;  // as it is now (none: bet_not_found)
  Money balance;
  std::string user_email;
};

}  // namespace betsdb::domain
