// Use cases for matches: create, read, list, change odds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/entities.hpp"
#include "domain/match_changes.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "service/context.hpp"
#include "service/read_cache.hpp"

namespace betsdb::service {

using MatchPage = domain::ListPage<domain::Match>;

// duplicate_match when the same team_1, team_2 and date exist.
Async<domain::Match> create_match(Context& ctx, domain::NewMatch match);
// match_not_found.
Async<domain::Match> get_match(Context& ctx, std::int64_t match_id);
// The match with exactly these teams and date, if any (betsdb import).
Async<std::optional<std::int64_t>> find_match_id(Context& ctx, const std::string& team_1,
                                                 const std::string& team_2, domain::Timestamp date);
// The page as `render` writes it, through the read cache.
Async<std::string> list_matches(Context& ctx, const domain::MatchFilter& filter, domain::Page page,
                                Render<MatchPage> render);
// match_not_found; match_closed unless open for betting; validation_failed
// when the change would leave no selection offered.
Async<domain::Match> change_odds(Context& ctx, std::int64_t match_id,
                                 const domain::OddsChange& change);

}  // namespace betsdb::service
