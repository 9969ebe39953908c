// The summary's kept totals (db/migrations/010_bet_totals.sql): folding the
// changes the bets' triggers append into them, and checking them against a
// full recount for `betsdb check`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

// Folds every committed change into the totals, in one transaction. Returns
// how many change rows it folded, or nullopt when another fold (of any
// instance) is running: that one does the work.
boost::asio::awaitable<Result<std::optional<std::int64_t>>> fold_bet_totals(pg::Pool& db);

struct BetTotalsAudit {
  std::int64_t groups_checked = 0;  // (type, selection, status) groups
  std::int64_t groups_mismatched = 0;
  std::int64_t matches_checked = 0;
  std::vector<std::int64_t> mismatched_matches;  // by id
};

// The totals plus the unfolded changes, against a count of every bet. Two
// statements, each one consistent snapshot, so it may run against a live
// server. It reads every bet: meant for operators, not for request paths.
boost::asio::awaitable<Result<BetTotalsAudit>> audit_bet_totals(pg::Pool& db);

}  // namespace betsdb::store
