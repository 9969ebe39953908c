// Timestamps: instants with microsecond precision (PostgreSQL's timestamptz
// resolution), read and written as RFC 3339 strings (API.md, "Times").
//
// Thread-safety: pure functions; no gmtime, no locale, no time-zone database.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace betsdb::domain {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// RFC 3339 date-time (section 5.6): YYYY-MM-DD "T" hh:mm:ss [.fraction] offset,
// "T"/"t" separator, offset "Z"/"z" or +hh:mm / -hh:mm (-00:00 is UTC). The
// fraction may have any number of digits; digits beyond microseconds are
// truncated. Calendar dates are checked (2023-02-29 fails, 2024-02-29 passes).
// Second 60 (a leap second) is accepted and read as the next second, as
// PostgreSQL and POSIX time do. The year must be 0001..9999 both as written and
// once converted to UTC, so that format_rfc3339() can write it back.
// Failure: validation_failed on `field`.
Result<Timestamp> parse_rfc3339(std::string_view text, std::string_view field);

// UTC, "Z" suffix: "2026-12-01T19:45:00Z" when the fraction is zero, otherwise
// the fraction with trailing zeros trimmed ("...:00.5Z", "...:00.000001Z").
// Intended for years 0001..9999 (what parse_rfc3339 accepts).
std::string format_rfc3339(Timestamp time);

}  // namespace betsdb::domain
