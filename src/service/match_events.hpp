// Use cases of the live stream (API.md, "Live stream"): publishing the
// committed match changes, and what a client that resumes has missed.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/entities.hpp"
#include "domain/match_event.hpp"
#include "service/context.hpp"

namespace betsdb::service {

// The event's data: the match as GET /v1/matches/{id} shows it (api/ knows how).
using MatchRenderer = std::function<std::string(const domain::Match&)>;

// Moves every change waiting in the outbox into the stream, oldest first, in
// batches, and returns how many this call appended. Safe to run from any
// number of shards and instances at once: each change enters the stream once
// (MatchEventStream::append), and a batch is a prefix of the outbox in id
// order, so a match's changes enter in commit order. A failure leaves the
// rest in the outbox for the next run.
Async<std::size_t> publish_match_changes(Context& ctx, const MatchRenderer& render);

struct EventsSince {
  // False when `after` is no longer held (trimmed, unknown, or the stream was
  // lost): the client missed an unknown number of events and must start over.
  bool held = true;
  std::vector<domain::MatchEvent> events;  // after `after`, oldest first
};
// At most `count` events after `after`.
Async<EventsSince> events_since(Context& ctx, domain::EventId after, std::size_t count);

Async<std::optional<domain::EventId>> newest_event(Context& ctx);

}  // namespace betsdb::service
