// Writes to matches as values: a new match, and a change of its odds.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <string>

#include "domain/selection.hpp"
#include "domain/timestamp.hpp"

namespace betsdb::domain {

struct NewMatch {
  std::string team_1;
  std::string team_2;
  Timestamp date;
  OddsBook odds;
};

// A change of odds: for each selection, untouched leaves it alone; touched
// sets it to `values` (which withdraws it when that is none).
struct OddsChange {
  std::array<bool, 3> touched{};
  OddsBook values;
};

}  // namespace betsdb::domain
