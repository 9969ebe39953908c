// SQL for matches.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "domain/entities.hpp"
#include "domain/match_changes.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

// conflict "matches_teams_date_key" for a duplicate.
Async<domain::Match> insert_match(pg::Pool& db, const domain::NewMatch& match);
Async<std::optional<domain::Match>> find_match(pg::Pool& db, std::int64_t id);
Async<domain::ListPage<domain::Match>> list_matches(pg::Pool& db, const domain::MatchFilter& filter,
                                                    domain::Page page);
// Applies the change unless the match is settled (nullopt then, as for a
// missing match); whether it is still open by the clock is the caller's
// rule, checked before. conflict "matches_some_odds" if it would withdraw
// every selection.
Async<std::optional<domain::Match>> change_odds_unless_settled(pg::Pool& db, std::int64_t id,
                                                               const domain::OddsChange& change);

}  // namespace betsdb::store
