// What the use cases need of the stored matches.
//
// Errors: service_unavailable when the database cannot answer; conflict
// (with the constraint's name) for a violated constraint. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "domain/entities.hpp"
#include "domain/match_changes.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "service/ports/async.hpp"

namespace betsdb::service {

// The constraints a duplicate match and a change leaving no odds violate.
inline constexpr std::string_view kDuplicateMatch = "matches_teams_date_key";
inline constexpr std::string_view kDuplicateImport = "matches_source_key_key";
inline constexpr std::string_view kNoOddsLeft = "matches_some_odds";

class MatchStore {
 public:
  virtual ~MatchStore() = default;

  // conflict kDuplicateMatch for the same teams and date, kDuplicateImport
  // for the same source_key.
  virtual Async<domain::Match> insert(const domain::NewMatch& match) = 0;
  virtual Async<std::optional<domain::Match>> find(std::int64_t match_id) = 0;
  // The matches among `ids` that exist, in no particular order.
  virtual Async<std::vector<domain::Match>> find_many(std::span<const std::int64_t> ids) = 0;
  virtual Async<domain::ListPage<domain::Match>> list(const domain::MatchFilter& filter,
                                                      domain::Page page) = 0;
  // Applies the change of odds and limits unless the match is settled (it is
  // then nullopt, as for a missing match); odds_version goes up by one when
  // some price really changed. conflict kNoOddsLeft if it would withdraw
  // every selection. Whether the match may still be traded by the clock is
  // the caller's rule (domain::tradable), checked before.
  virtual Async<std::optional<domain::Match>> change_unless_settled(
      std::int64_t match_id, const domain::MatchChange& change) = 0;
  // Moves the match from status `from` to `to` and bumps its odds_version;
  // nullopt when it is missing or not in `from` (nothing changes then).
  // Audited as `actor`'s when it moves.
  virtual Async<std::optional<domain::Match>> move_status(
      std::int64_t match_id, domain::MatchStatus from, domain::MatchStatus to,
      const std::optional<domain::Actor>& actor) = 0;
  // The book's exposure on the match (pending single bets) and its limits,
  // as committed now; nullopt for a missing match.
  virtual Async<std::optional<std::pair<domain::Exposure, domain::MatchLimits>>> exposure(
      std::int64_t match_id) = 0;
};

}  // namespace betsdb::service
