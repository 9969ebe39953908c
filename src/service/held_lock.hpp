// HeldLock: a Redis lock or claim we hold (ports/locks.hpp), released on
// every path out of the scope that took it, exceptions included.
//
// release() releases it and waits for the answer, for callers whose next
// step depends on it (a checkout's guard, so the user's next checkout finds
// it free). Otherwise the destructor releases it in the background: nothing
// waits. A release that fails (Redis, or the key's master, is down) is
// retried in the background until Redis answers or the key's TTL is over:
// a claim left behind would answer the client's retry "in progress" for
// its whole TTL, though the request that took it has long answered.
// keep() gives it up without releasing (an idempotency claim replaced by its
// answer).
//
// Thread-safety: one shard's thread, like the Locks it uses.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "service/ports/locks.hpp"

namespace betsdb::service {

class HeldLock final {
 public:
  // `ttl`: how long the key lives, after which a failed release stops trying.
  HeldLock(std::shared_ptr<Locks> locks, LockToken token, std::chrono::milliseconds ttl) noexcept;
  HeldLock(HeldLock&& other) noexcept;
  HeldLock& operator=(HeldLock&&) = delete;
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  ~HeldLock();

  // True when our token still held the key and it was deleted.
  Async<bool> release();
  void keep() noexcept { token_.reset(); }
  bool held() const noexcept { return token_.has_value(); }
  const LockToken& token() const noexcept { return *token_; }

 private:
  std::shared_ptr<Locks> locks_;
  std::optional<LockToken> token_;
  std::chrono::milliseconds ttl_;
};

// The lock when taken; nullopt when someone else holds `key`;
// service_unavailable when Redis cannot answer.
Async<std::optional<HeldLock>> try_hold(const std::shared_ptr<Locks>& locks, std::string key,
                                        std::chrono::milliseconds ttl);

// For a lock or claim whose taking Redis may have applied though its reply
// never came: if the key is there, it is ours and nothing else will release
// it. Released in the background (on locks->executor()), compared by its
// token, until Redis answers or `give_up_after`, when it has expired anyway.
void release_in_background(std::shared_ptr<Locks> locks, LockToken lock,
                           std::chrono::milliseconds give_up_after);

// Releases `lock` if it is still held, and waits for the answer. A failed
// release is logged and retried in the background (HeldLock::release()).
boost::asio::awaitable<void> release_if_held(std::optional<HeldLock>& lock);

}  // namespace betsdb::service
