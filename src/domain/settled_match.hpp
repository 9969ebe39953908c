// What a settlement reports (API.md, POST /v1/matches/{id}/result).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/entities.hpp"

namespace betsdb::domain {

struct SettlementTotals {
  std::int64_t won = 0;
  std::int64_t lost = 0;
  std::int64_t voided = 0;
  std::int64_t paid_out = 0;
  std::int64_t refunded = 0;
};

struct Settled {
  Match match;
  SettlementTotals totals;
  bool changed = false;  // false: the match was settled already with the same result
};

enum class SettleProblem { none, match_not_found, already_settled };

struct SettleOutcome {
  SettleProblem problem = SettleProblem::none;
  Settled settled;
  // The emails of the users with bets on the match: their cached lists change.
  std::vector<std::string> bettor_emails;
};

}  // namespace betsdb::domain
