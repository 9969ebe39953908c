// Short-lived Redis locks owned by a random token (SET NX PX, released by
// compare-and-delete), and the same release for any record claimed the same
// way (idempotency claims). Use them through HeldLock (service/held_lock.hpp),
// which releases on every path.
//
// Errors: service_unavailable when Redis cannot answer. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "service/ports/async.hpp"

namespace betsdb::service {

struct LockToken {
  std::string key;
  std::string token;  // the key's value while we hold it
};

class Locks {
 public:
  virtual ~Locks() = default;

  // Takes `lock.key` with `lock.token`: true when taken, false when someone
  // else holds the key. An error may come after Redis took it (a reply
  // lost): the caller, who knows the token, can release it all the same.
  virtual Async<bool> try_lock(const LockToken& lock, std::chrono::milliseconds ttl) = 0;
  // True when the key still held our token and was deleted; false when it had
  // expired or was taken over, and was left alone.
  virtual Async<bool> unlock(const LockToken& lock) = 0;
  // Where releases that nobody waits for run.
  virtual boost::asio::any_io_executor executor() const = 0;
};

}  // namespace betsdb::service
