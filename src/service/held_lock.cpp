#include "service/held_lock.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace betsdb::service {

namespace asio = boost::asio;

HeldLock::HeldLock(std::shared_ptr<Locks> locks, LockToken token) noexcept
    : locks_(std::move(locks)), token_(std::move(token)) {}

HeldLock::HeldLock(HeldLock&& other) noexcept
    : locks_(std::move(other.locks_)), token_(std::move(other.token_)) {
  other.token_.reset();
}

HeldLock::~HeldLock() {
  if (!token_ || !locks_) return;
  try {
    asio::co_spawn(
        locks_->executor(),
        [locks = locks_, token = *token_]() -> asio::awaitable<void> {
          auto released = co_await locks->unlock(token);
          if (!released.ok()) {
            spdlog::warn("{} not released ({}); it expires by itself", token.key,
                         released.error().detail);
          }
        },
        asio::detached);
  } catch (const std::exception& e) {
    // Only allocation can fail here; the key then expires by itself.
    spdlog::warn("{} not released ({}); it expires by itself", token_->key, e.what());
  }
}

Async<bool> HeldLock::release() {
  if (!token_) co_return false;
  const LockToken token = std::move(*token_);
  token_.reset();
  auto released = co_await locks_->unlock(token);
  if (!released.ok()) {
    spdlog::warn("{} not released ({}); it expires by itself", token.key, released.error().detail);
  }
  co_return released;
}

Async<std::optional<HeldLock>> try_hold(const std::shared_ptr<Locks>& locks, std::string key,
                                        std::chrono::milliseconds ttl) {
  auto taken = co_await locks->try_lock(std::move(key), ttl);
  if (!taken.ok()) co_return std::move(taken).error();
  if (!*taken) co_return std::optional<HeldLock>{};
  co_return std::optional<HeldLock>{HeldLock(locks, std::move(**taken))};
}

boost::asio::awaitable<void> release_if_held(std::optional<HeldLock>& lock) {
  if (lock) (void)co_await lock->release();
}

}  // namespace betsdb::service
