// The live stream in Redis: one stream of match events (API.md, "Live
// stream"), appended by whichever process publishes the outbox, read by one
// blocking reader per process and by replays.
//
// Keys (docs/operations.md): `stream:{matches}`, and per published outbox
// entry `stream:{matches}:sent:<outbox id>`, holding its publish key, for an
// hour. One hash tag, so the
// append script's keys share a slot on a Redis Cluster.
//
// Errors: service_unavailable when Redis cannot answer or refuses.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/match_event.hpp"
#include "store/redis/commands.hpp"

namespace betsdb::redis {

extern const std::string kMatchStreamKey;

struct StreamAppend {
  std::int64_t outbox_id = 0;
  std::string publish_key;  // held by the id's mark: tells a repeat from a reused id
  std::int64_t match_id = 0;
  std::string data;
};

// Appends, in order, each entry whose outbox id and publish key were not
// appended before (by anyone, within the hour its mark lives), trimming the stream to about
// `keep` entries (never fewer). Returns how many were appended.
boost::asio::awaitable<Result<std::size_t>> append_match_events(
    Commands& redis, std::span<const StreamAppend> entries, std::size_t keep);

// Up to `count` events from `from` on, `from` included when it is held.
boost::asio::awaitable<Result<std::vector<domain::MatchEvent>>> match_events_from(
    Commands& redis, domain::EventId from, std::size_t count);

// Up to `count` events after `after`, waiting up to `block` for the first
// (XREAD BLOCK: give it a connection of its own). Empty when none came.
boost::asio::awaitable<Result<std::vector<domain::MatchEvent>>> read_match_events_after(
    Commands& redis, domain::EventId after, std::chrono::milliseconds block, std::size_t count);

// Whether no event after `after` can have been trimmed: `after` is still
// held, or no event at or after it is (trimming always keeps the newest).
// The stream cannot tell a trimmed `after` from one it never held (the
// empty stream's 0-0, a stream lost and written anew), so both are false.
boost::asio::awaitable<Result<bool>> match_events_held_after(Commands& redis,
                                                             domain::EventId after);

// The newest event's id; nullopt while the stream is empty or missing.
boost::asio::awaitable<Result<std::optional<domain::EventId>>> newest_match_event(Commands& redis);

}  // namespace betsdb::redis
