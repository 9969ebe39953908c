// What the list and summary reads ask for and answer (API.md, "Matches" and
// "Bets"): filters, sort orders and the summary's figures.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/bet.hpp"
#include "domain/match.hpp"
#include "domain/selection.hpp"
#include "domain/timestamp.hpp"

namespace betsdb::domain {

struct MatchFilter {
  std::optional<MatchStatus> status;
  std::optional<std::string> team;         // either side, case-insensitive exact
  std::optional<std::string> competition;  // case-insensitive exact
  // Case-insensitive substring of either team or the competition (`q`);
  // its characters are literal (no wildcards).
  std::optional<std::string> search;
  std::optional<Timestamp> from;
  std::optional<Timestamp> to;
  bool newest_first = false;  // sort=-date
};

// Who support looks for (GET /v1/users): newest first.
struct UserFilter {
  // Case-insensitive: an email starting with it, or a name containing it;
  // its characters are literal (no wildcards). None: everyone.
  std::optional<std::string> search;
};

// Every order breaks ties by id, newest first.
enum class BetSort { newest, oldest, stake_ascending, stake_descending };

struct BetFilter {
  std::optional<std::int64_t> user_id;  // a user's own list
  std::optional<std::int64_t> match_id;
  std::optional<BetStatus> status;
  std::optional<Selection> selection;
  std::optional<std::int64_t> min_stake;
  std::optional<std::int64_t> max_stake;
  BetSort sort = BetSort::newest;
};

struct CountAndStake {
  std::int64_t count = 0;
  std::int64_t stake = 0;
};

struct MatchStake {
  std::int64_t match_id = 0;
  std::int64_t bets = 0;
  std::int64_t stake = 0;
};

struct BetSummary {
  CountAndStake total;
  std::array<CountAndStake, kBetStatusCount> by_status;  // indexed by BetStatus
  std::array<CountAndStake, kBetTypeCount> by_type;      // indexed by BetType
  // Singles only:
  std::array<CountAndStake, 3> by_selection;  // indexed by index_of(Selection)
  std::vector<MatchStake> top_matches;        // at most 10: stake desc, then match id asc
};

}  // namespace betsdb::domain
