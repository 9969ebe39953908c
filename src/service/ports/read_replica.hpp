// A standby that cached reads may use on a miss (BETSDB_DATABASE_REPLICA_URL),
// and the WAL positions that say when it may (service/read_routing.hpp).
//
// Positions are PostgreSQL LSNs as 64-bit numbers. Errors:
// service_unavailable when the primary cannot answer. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>

#include "service/ports/async.hpp"
#include "service/ports/bet_store.hpp"
#include "service/ports/match_store.hpp"

namespace betsdb::service {

// What the shard knows of the standby's replay position, without waiting.
struct ReplicaView {
  enum class State { replayed, down, unknown };
  State state = State::unknown;
  std::uint64_t position = 0;  // replayed: it had replayed at least this far
  std::uint64_t epoch = 0;     // replayed: for still_valid()
};

class ReadReplica {
 public:
  virtual ~ReadReplica() = default;

  // The primary's WAL position now: read after a write has committed, it is
  // at or past the write's commit record.
  virtual Async<std::uint64_t> primary_position() = 0;
  // Never waits; refreshes in the background.
  virtual ReplicaView view() = 0;
  // Whether a read served by the standby since `epoch` was sampled is covered
  // by the sample (no new connection, possibly to a restarted standby).
  virtual bool still_valid(std::uint64_t epoch) const = 0;
  // The standby's stores, for the read side only.
  virtual MatchStore& matches() = 0;
  virtual BetStore& bets() = 0;
};

}  // namespace betsdb::service
