#include "service/held_lock.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "service/retry_later.hpp"
#include "util/token.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

HeldLock::HeldLock(std::shared_ptr<Locks> locks, LockToken token,
                   std::chrono::milliseconds ttl) noexcept
    : locks_(std::move(locks)), token_(std::move(token)), ttl_(ttl) {}

HeldLock::HeldLock(HeldLock&& other) noexcept
    : locks_(std::move(other.locks_)), token_(std::move(other.token_)), ttl_(other.ttl_) {
  other.token_.reset();
}

namespace {

// Releases at once; a release that fails is retried in the background
// (release_in_background) until Redis answers or the lock's TTL ends.
Async<bool> release_or_retry(std::shared_ptr<Locks> locks, LockToken token,
                             std::chrono::milliseconds ttl) {
  auto released = co_await locks->unlock(token);
  if (!released.ok()) {
    spdlog::warn("{} not released ({}); retried in the background", token.key,
                 released.error().detail);
    release_in_background(std::move(locks), std::move(token), ttl);
  }
  co_return released;
}

}  // namespace

HeldLock::~HeldLock() {
  if (!token_ || !locks_) return;
  try {
    asio::co_spawn(
        locks_->executor(),
        [locks = locks_, token = *token_, ttl = ttl_]() -> asio::awaitable<void> {
          (void)co_await release_or_retry(locks, token, ttl);
        },
        asio::detached);
  } catch (const std::exception& e) {
    // Only allocation can fail here; the key then expires by itself.
    spdlog::warn("{} not released ({}); it expires by itself", token_->key, e.what());
  }
}

Async<bool> HeldLock::release() {
  if (!token_) co_return false;
  LockToken token = std::move(*token_);
  token_.reset();
  co_return co_await release_or_retry(locks_, std::move(token), ttl_);
}

void release_in_background(std::shared_ptr<Locks> locks, LockToken lock,
                           std::chrono::milliseconds give_up_after) {
  auto executor = locks->executor();
  asio::co_spawn(
      executor,
      [locks = std::move(locks), lock = std::move(lock), give_up_after]() -> asio::awaitable<void> {
        const bool answered = co_await retry_later(
            [&]() -> asio::awaitable<bool> {
              auto released = co_await locks->unlock(lock);
              co_return released.ok();
            },
            RetryPlan{.give_up_after = give_up_after});
        if (!answered) spdlog::warn("{} not released; it expires by itself", lock.key);
      },
      asio::detached);
}

Async<std::optional<HeldLock>> try_hold(const std::shared_ptr<Locks>& locks, std::string key,
                                        std::chrono::milliseconds ttl) {
  LockToken lock{std::move(key), generate_token()};
  auto taken = co_await locks->try_lock(lock, ttl);
  if (!taken.ok()) {
    // Redis may have taken it though its reply never came (a time-out, a
    // connection lost after sending): the caller's next try (a bettor's
    // retry of the same bet) would then find it held until it expires.
    release_in_background(locks, lock, ttl);
    co_return std::move(taken).error();
  }
  if (!*taken) co_return std::optional<HeldLock>{};
  co_return std::optional<HeldLock>{HeldLock(locks, std::move(lock), ttl)};
}

boost::asio::awaitable<void> release_if_held(std::optional<HeldLock>& lock) {
  if (lock) (void)co_await lock->release();
}

}  // namespace betsdb::service
