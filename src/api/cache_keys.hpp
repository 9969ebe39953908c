// Canonical cache keys of list queries, built from the parsed filters rather
// than the raw query string: parameter order, defaults spelled out or left
// out, and letter case of team names all lead to the same key.
#pragma once

#include <string>

#include "domain/paging.hpp"
#include "store/pg/bet_queries.hpp"
#include "store/pg/match_store.hpp"

namespace betsdb::api {

std::string match_list_key(const store::MatchFilter& filter, const domain::Page& page);
std::string bet_list_key(const store::BetFilter& filter, const domain::Page& page);

}  // namespace betsdb::api
