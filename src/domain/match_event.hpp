// The live stream's events (API.md, "Live stream"): one per committed change
// of a match, ordered by an id that clients hand back to resume.
//
// The ids are the Redis stream's ("<ms>-<seq>"): clients see them as opaque
// text; here they are a pair compared in order, so a replay and the live
// events that overlap it can be told apart by id alone.
//
// Thread-safety: plain value types.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace betsdb::domain {

struct EventId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  // "<digits>-<digits>", each part a canonical base-10 uint64; nullopt otherwise.
  static std::optional<EventId> parse(std::string_view text);
  std::string text() const;

  friend auto operator<=>(const EventId&, const EventId&) = default;
};

struct MatchEvent {
  EventId id;
  std::int64_t match_id = 0;
  std::string data;  // the match's JSON after the change, as GET /v1/matches/{id}
};

}  // namespace betsdb::domain
