// The write-ahead log positions that replica routing compares (docs/architecture.md,
// "Reading from a standby").
//
// After a write has committed, wal_insert_position() on the primary is at or
// past the end of the write's commit record: the commit record was inserted
// before COMMIT returned, and the insert position only grows. It is the right
// bound even with synchronous_commit = off, where pg_current_wal_lsn() (the
// position written out so far) may still be behind the commit record. Read
// inside the write's transaction, either would be too early: the commit
// record comes after every statement.
//
// A standby that has replayed up to replay_position() shows every
// transaction whose commit record ends at or before it to new snapshots.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "store/pg/lsn.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::pg {

// pg_current_wal_insert_lsn(); fails on a standby (it has no insert position).
boost::asio::awaitable<Result<Lsn>> wal_insert_position(Pool& primary);
// pg_last_wal_replay_lsn(); nullopt when the server is not in recovery (a
// primary, e.g. a promoted standby): it replays nothing.
boost::asio::awaitable<Result<std::optional<Lsn>>> replay_position(Pool& standby);

}  // namespace betsdb::pg
