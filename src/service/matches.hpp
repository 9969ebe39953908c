// Use cases for matches: create, read, list, change odds and limits,
// suspend and resume, the book's exposure.
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

// duplicate_match when the same team_1, team_2 and date exist (or, for an
// import, a match of the same fixture).
Async<domain::Match> create_match(Context& ctx, domain::NewMatch match);
// match_not_found.
Async<domain::Match> get_match(Context& ctx, std::int64_t match_id);
// The page as `render` writes it, through the read cache.
Async<std::string> list_matches(Context& ctx, const domain::MatchFilter& filter, domain::Page page,
                                Render<MatchPage> render);
// match_not_found; match_closed once settled or past kick-off (a suspended
// match can be changed); validation_failed when the change would leave no
// selection offered.
Async<domain::Match> change_match(Context& ctx, std::int64_t match_id,
                                  const domain::MatchChange& change);

// Suspends an open match or resumes a suspended one, bumping its
// odds_version; the same again is the match unchanged. match_not_found,
// already_settled. Once it has returned, no shard or instance places a bet
// or adds a cart item on a suspended match (the placing statement reads the
// status under lock; cart adds check the matches' generation it bumps).
// A move is audited as `actor`'s.
Async<domain::Match> suspend_match(Context& ctx, std::int64_t match_id,
                                   const std::optional<domain::Actor>& actor);
Async<domain::Match> resume_match(Context& ctx, std::int64_t match_id,
                                  const std::optional<domain::Actor>& actor);

struct MatchExposure {
  std::int64_t match_id = 0;
  domain::Exposure exposure;
  domain::MatchLimits limits;
};
// As committed now (never cached). match_not_found.
Async<MatchExposure> match_exposure(Context& ctx, std::int64_t match_id);

}  // namespace betsdb::service
