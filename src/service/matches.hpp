// Use cases for matches: create, read, list, change odds.
#pragma once

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "service/context.hpp"
#include "store/pg/match_store.hpp"

namespace betsdb::service {

// duplicate_match when the same team_1, team_2 and date exist.
Async<domain::Match> create_match(Context& ctx, store::NewMatch match);
// match_not_found.
Async<domain::Match> get_match(Context& ctx, std::int64_t match_id);
Async<domain::ListPage<domain::Match>> list_matches(Context& ctx, const store::MatchFilter& filter,
                                                    domain::Page page);
// match_not_found; match_closed unless open for betting; validation_failed
// when the change would leave no selection offered.
Async<domain::Match> change_odds(Context& ctx, std::int64_t match_id, const store::OddsChange& change);

}  // namespace betsdb::service
