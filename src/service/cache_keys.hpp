// Canonical cache keys of list queries, built from the parsed filters rather
// than the raw query string: parameter order, defaults spelled out or left
// out, and letter case of team names all lead to the same key.
#pragma once

#include <string>

#include "domain/paging.hpp"
#include "domain/queries.hpp"

namespace betsdb::service {

std::string match_list_key(const domain::MatchFilter& filter, const domain::Page& page);
std::string bet_list_key(const domain::BetFilter& filter, const domain::Page& page);

}  // namespace betsdb::service
