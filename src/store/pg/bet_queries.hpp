// The read side of bets: filtered, sorted, paged lists and the summary.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

// Every order breaks ties by id, newest first.
enum class BetSort { newest, oldest, stake_ascending, stake_descending };

struct BetFilter {
  std::optional<std::int64_t> user_id;  // a user's own list
  std::optional<std::int64_t> match_id;
  std::optional<domain::BetStatus> status;
  std::optional<domain::Selection> selection;
  std::optional<std::int64_t> min_stake;
  std::optional<std::int64_t> max_stake;
  BetSort sort = BetSort::newest;
};

Async<domain::ListPage<domain::Bet>> list_bets(pg::Pool& db, const BetFilter& filter, domain::Page page);

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
  std::array<CountAndStake, 4> by_status;     // indexed by domain::BetStatus
  std::array<CountAndStake, 3> by_selection;  // indexed by domain::index_of(Selection)
  std::vector<MatchStake> top_matches;        // at most 10: stake desc, then match id asc
};

// One aggregation over all bets (void ones included).
Async<BetSummary> bet_summary(pg::Pool& db);

}  // namespace betsdb::store
