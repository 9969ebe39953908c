// The stored entities as plain values, as the store layer returns them and
// the api layer renders them. No behaviour here: rules live beside their
// value types (money.hpp, odds.hpp, match.hpp, settlement.hpp, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/account.hpp"
#include "domain/bet.hpp"
#include "domain/match.hpp"
#include "domain/money.hpp"
#include "domain/odds.hpp"
#include "domain/selection.hpp"
#include "domain/settlement.hpp"
#include "domain/timestamp.hpp"
#include "domain/trading.hpp"
#include "util/token.hpp"

namespace betsdb::domain {

struct User {
  std::int64_t id = 0;
  std::string email;
  std::string name;
  Money balance;
  Timestamp created_at;
};

// A sign-up as stored: the token itself is never kept, only its digest.
struct NewUser {
  std::string email;
  std::string name;
  Money initial_balance;  // zero: no deposit row
  Digest token_digest{};
  std::string password_hash;  // empty: signed up without a password
  // Set when an operator or the owner creates the user: audited.
  std::optional<Actor> actor;
};

enum class LedgerKind { deposit, stake, payout, refund, cash_out };
std::string_view to_string(LedgerKind kind) noexcept;
std::optional<LedgerKind> parse_ledger_kind(std::string_view text) noexcept;

struct LedgerEntry {
  std::int64_t id = 0;
  LedgerKind kind = LedgerKind::deposit;
  std::int64_t amount = 0;  // signed: stakes are negative
  std::optional<std::int64_t> bet_id;
  Money balance_after;
  Timestamp created_at;
};

// A deposit's effect: the new balance and its ledger row.
struct Deposit {
  Money balance;
  LedgerEntry entry;
};

// What came of asking for a deposit: the deposit, or why there was none.
struct DepositOutcome {
  std::optional<Deposit> deposit;
  bool user_found = false;
  bool limit_short = false;               // a deposit limit would have been passed
  std::optional<Timestamp> paused_until;  // the user's betting is paused until then
  // The deposit its Idempotency-Key already made (nothing was deposited now).
  std::optional<Deposit> earlier;
};

struct Match {
  std::int64_t id = 0;
  std::string team_1;
  std::string team_2;
  Timestamp date;
  std::optional<std::string> competition;  // "Premier League 2025/26"
  OddsBook odds;
  MatchStatus status = MatchStatus::open;
  std::optional<MatchResult> result;
  Timestamp created_at;
  // +1 on every change of its prices, withdrawal, suspension and resumption.
  std::int64_t odds_version = 1;
  MatchLimits limits;
};

// One leg of an accumulator: a selection of one match at the odds taken.
struct Leg {
  std::int64_t match_id = 0;
  Selection selection = Selection::home;
  Odds odds;
  std::int64_t odds_version = 0;  // the match's when the bet was placed
  BetStatus status = BetStatus::pending;
};

// A single (match_id, selection, odds, odds_version) or an accumulator
// (legs and combined_odds; its match_id, selection and odds are unused).
struct Bet {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  BetType type = BetType::single;
  std::int64_t match_id = 0;
  Selection selection = Selection::home;
  Money stake;
  Odds odds;
  Money potential_payout;
  BetStatus status = BetStatus::pending;
  Timestamp created_at;
  std::optional<Timestamp> settled_at;
  // The match's odds_version when the bet was placed; nullopt for bets
  // placed before versions existed.
  std::optional<std::int64_t> odds_version;
  // Accumulators: the legs in the order given, and the product of their
  // odds rounded down to hundredths (beyond Odds' range).
  std::vector<Leg> legs;
  std::int64_t combined_odds_hundredths = 0;
  std::optional<Money> cash_out_amount;  // once cashed out
};

template <class T>
struct ListPage {
  std::vector<T> items;
  std::int64_t total = 0;
};

}  // namespace betsdb::domain
