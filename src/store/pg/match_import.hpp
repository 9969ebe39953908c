// SQL that only `betsdb import` needs: finding an already imported match
// by its natural key, to settle it on a re-run with --apply-results.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/timestamp.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// The id of the match with exactly these stored teams and date, if any
// (the key of matches_teams_date_key).
boost::asio::awaitable<Result<std::optional<std::int64_t>>> find_match_id(pg::Pool& db,
                                                                          const std::string& team_1,
                                                                          const std::string& team_2,
                                                                          domain::Timestamp date);

}  // namespace betsdb::store
