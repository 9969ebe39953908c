// The live stream's two stores: the outbox of committed match changes
// (PostgreSQL, filled by triggers in each change's own transaction) and the
// stream of published events (Redis, shared by every instance).
//
// Errors: service_unavailable when a store cannot answer. Thread-safety: one
// shard's thread, like the Context that holds them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/entities.hpp"
#include "domain/match_event.hpp"
#include "service/ports/async.hpp"

namespace betsdb::service {

struct PendingMatchChange {
  std::int64_t outbox_id = 0;
  std::string publish_key;  // unique per change, where an outbox id may come again
  domain::Match match;      // as the change left it
};

class MatchOutbox {
 public:
  virtual ~MatchOutbox() = default;
  // The oldest `limit` changes not yet published, in commit order per match.
  virtual Async<std::vector<PendingMatchChange>> pending(std::size_t limit) = 0;
  virtual Async<void> forget(const std::vector<std::int64_t>& outbox_ids) = 0;
};

struct StreamEntry {
  std::int64_t outbox_id = 0;
  std::string publish_key;
  std::int64_t match_id = 0;
  std::string data;
};

class MatchEventStream {
 public:
  virtual ~MatchEventStream() = default;
  // Appends, in order, each entry not appended before (its outbox id marked
  // with its publish key), so publishers racing over the same outbox rows
  // add each event once, and a change under an outbox id handed out again
  // (another publish key) is added.
  virtual Async<std::size_t> append(std::span<const StreamEntry> entries) = 0;
  // Up to `count` events from `from` on, `from` included when still held.
  virtual Async<std::vector<domain::MatchEvent>> from(domain::EventId from, std::size_t count) = 0;
  // The newest event's id; nullopt while there is none.
  virtual Async<std::optional<domain::EventId>> newest() = 0;
};

}  // namespace betsdb::service
