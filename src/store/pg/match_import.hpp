// SQL that only `betsdb import` needs: finding the matches a file created
// before (by the fixture's identity, or by teams and date for matches created
// otherwise), and the date shift a file was given on its first import.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/entities.hpp"
#include "domain/timestamp.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// The id of the match with exactly these stored teams and date, if any
// (the key of matches_teams_date_key).
boost::asio::awaitable<Result<std::optional<std::int64_t>>> find_match_id(pg::Pool& db,
                                                                          const std::string& team_1,
                                                                          const std::string& team_2,
                                                                          domain::Timestamp date);

// The match imported from the fixture with this identity, if any.
boost::asio::awaitable<Result<std::optional<domain::Match>>> find_imported_match(
    pg::Pool& db, const std::string& identity);

// The shift in days of the file named `source`: the one recorded on its first
// import, else `proposed`, recorded now. Concurrent first imports agree.
boost::asio::awaitable<Result<int>> import_shift_days(pg::Pool& db, const std::string& source,
                                                      int proposed);

}  // namespace betsdb::store
