// SQL for matches.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

struct NewMatch {
  std::string team_1;
  std::string team_2;
  domain::Timestamp date;
  domain::OddsBook odds;
};

struct MatchFilter {
  std::optional<domain::MatchStatus> status;
  std::optional<std::string> team;  // either side, case-insensitive exact
  std::optional<domain::Timestamp> from;
  std::optional<domain::Timestamp> to;
  bool newest_first = false;  // sort=-date
};

// A change of odds: for each selection, nullopt leaves it alone, a value
// sets it, and `withdraw` removes it.
struct OddsChange {
  std::array<bool, 3> touched{};
  domain::OddsBook values;  // for touched selections: the new odds, or none to withdraw
};

// conflict "matches_teams_date_key" for a duplicate.
Async<domain::Match> insert_match(pg::Pool& db, const NewMatch& match);
Async<std::optional<domain::Match>> find_match(pg::Pool& db, std::int64_t id);
Async<domain::ListPage<domain::Match>> list_matches(pg::Pool& db, const MatchFilter& filter,
                                                    domain::Page page);
// Applies the change only while the match is open for betting (status open
// and date in the future, by the database clock); nullopt otherwise.
// conflict "matches_some_odds" if it would withdraw every selection.
Async<std::optional<domain::Match>> update_open_match_odds(pg::Pool& db, std::int64_t id,
                                                           const OddsChange& change);

}  // namespace betsdb::store
