// A Redis lock owned by a random token: SET key token NX PX ttl to take it,
// and a Lua compare-and-delete to release it, so a holder whose lock expired
// can never release someone else's.
//
// Thread-safety: as redis::Commands (one shard's thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "store/redis/commands.hpp"

namespace betsdb::redis {

struct LockToken {
  std::string key;
  std::string token;
};

// Takes `lock.key` with `lock.token` (the caller's, so that it can release
// a lock whose reply was lost): true when taken, false when someone else
// holds the key; service_unavailable when Redis cannot answer.
boost::asio::awaitable<Result<bool>> try_lock(Commands& client, const LockToken& lock,
                                              std::chrono::milliseconds ttl);

// True when our token still held the key and it was deleted; false when the
// lock had expired (or was taken over) and was left alone.
boost::asio::awaitable<Result<bool>> unlock(Commands& client, const LockToken& lock);

}  // namespace betsdb::redis
