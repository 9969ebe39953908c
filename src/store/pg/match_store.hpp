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
// rule, checked before. odds_version goes up by one when some price really
// changed. conflict "matches_some_odds" if it would withdraw every selection.
Async<std::optional<domain::Match>> change_match_unless_settled(pg::Pool& db, std::int64_t id,
                                                                const domain::MatchChange& change);
// Moves the match from status `from` to `to`, bumping odds_version; nullopt
// when it is missing or not in `from`.
Async<std::optional<domain::Match>> move_match_status(pg::Pool& db, std::int64_t id,
                                                      domain::MatchStatus from,
                                                      domain::MatchStatus to,
                                                      const std::optional<domain::Actor>& actor);
// The book's exposure on the match and its limits; nullopt for a missing match.
Async<std::optional<std::pair<domain::Exposure, domain::MatchLimits>>> match_exposure(
    pg::Pool& db, std::int64_t id);

}  // namespace betsdb::store
