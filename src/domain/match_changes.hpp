// Writes to matches as values: a new match, and a change of its odds, limits
// and competition.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "domain/account.hpp"
#include "domain/selection.hpp"
#include "domain/timestamp.hpp"
#include "domain/trading.hpp"

namespace betsdb::domain {

struct NewMatch {
  std::string team_1;
  std::string team_2;
  Timestamp date;
  OddsBook odds;
  MatchLimits limits;
  std::optional<Actor> actor;  // staff creating it: audited (not the importer)
  std::optional<std::string> competition;
  // `betsdb import`: the fixture's identity in its file (one match per key).
  std::optional<std::string> source_key;
};

// A change of odds: for each selection, untouched leaves it alone; touched
// sets it to `values` (which withdraws it when that is none).
struct OddsChange {
  std::array<bool, 3> touched{};
  OddsBook values;

  bool any() const noexcept { return touched[0] || touched[1] || touched[2]; }
};

// A change of one limit: untouched leaves it alone; touched sets it to
// `value` (which removes the limit when that is none).
struct LimitChange {
  bool touched = false;
  std::optional<Money> value;
};

// What PATCH /v1/matches/{id} may change.
// A change of the competition: untouched leaves it; touched sets `value`
// (none clears it).
struct CompetitionChange {
  bool touched = false;
  std::optional<std::string> value;
};

struct MatchChange {
  OddsChange odds;
  LimitChange max_stake;
  LimitChange max_liability;
  CompetitionChange competition;
  std::optional<Actor> actor;  // audited, with `details`: the change as sent (JSON)
  std::string details = "{}";
};

}  // namespace betsdb::domain
