// Reading fixture files in openfootball's football.json format
// (github.com/openfootball/football.json), for `betsdb import`:
//
//   {"name": "English Premier League 2024/25",
//    "matches": [{"round": "Matchday 1", "date": "2024-08-16", "time": "20:00",
//                 "team1": "Manchester United FC", "team2": "Fulham FC",
//                 "score": {"ht": [0, 0], "ft": [1, 0]}}, ...]}
//
// Kick-off: "date" plus "time" ("HH:MM", optionally followed by a zone such
// as "UTC+1" or "UTC-03:00"). A time without a zone is taken as UTC; a match
// without a time (or an empty one) kicks off at 12:00 UTC. The result, when
// the match has a full-time score ("score": {"ft": [h, a]}, or the older
// "score1"/"score2"), is 1, X or 2 on that score; anything else has none.
// Team names are normalised as the API does (domain::normalize_team).
//
// The file's "name" becomes each match's competition (cut to 100 characters).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/settlement.hpp"
#include "domain/timestamp.hpp"
#include "util/result.hpp"

namespace betsdb::app {

// Kick-off time of a fixture whose file gives none.
inline constexpr int kDefaultKickoffHourUtc = 12;

struct Fixture {
  std::size_t index = 0;  // position in "matches", for messages
  std::string team_1;
  std::string team_2;
  domain::Timestamp date;
  std::optional<domain::MatchResult> result;
  // Which fixture of which file this is, whatever its date becomes after a
  // shift: the file's name, the round, the teams and the kick-off as written
  // in the file. The same file gives the same identities on every import.
  std::string identity;
};

// A match of the file that cannot be imported, and why.
struct FixtureProblem {
  std::size_t index = 0;
  std::string message;
};

struct FixtureFile {
  std::string name;  // "" when the file has none
  // The name as a match's competition: trimmed, cut to 100 characters;
  // none when the file has no usable name.
  std::optional<std::string> competition;
  std::vector<Fixture> fixtures;
  std::vector<FixtureProblem> problems;
};

// validation_failed (field "file") when the text is not JSON or has no
// "matches" array. A malformed match becomes a problem; the others still come.
Result<FixtureFile> parse_openfootball(std::string_view json);

// "HH:MM" with an optional zone, as minutes after midnight UTC-wise: the
// local time and the zone's offset in minutes east of UTC. nullopt if malformed.
struct KickoffTime {
  int minutes = 0;  // 0 .. 1439, local
  int utc_offset_minutes = 0;
};
std::optional<KickoffTime> parse_kickoff_time(std::string_view text);

}  // namespace betsdb::app
