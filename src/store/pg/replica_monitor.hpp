// ReplicaMonitor: what a shard knows of its standby's replay position, for
// replica routing, without ever making a request wait for it.
//
// view() answers from the last sample and, when that is older than
// refresh_after, starts one refresh in the background (never two at once).
// A sample older than valid_for is not trusted (unknown); a standby that did
// not answer, or is not in recovery any more (promoted), is down.
//
// A replay position only grows while the standby keeps running; a restarted
// standby may come back behind the position it had reached (it replays again
// from its last restartpoint, and accepts queries once consistent). Its
// connections are new ones, so a sample counts only while the pool has opened
// no connection since it was taken: unchanged_since(view.epoch), checked
// after a replica read, rejects a result that a new connection may have
// served. The replica URL must name ONE standby (not a balancer over
// several): a sample of one server says nothing of another.
//
// Thread-safety: one shard's thread, like its Pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "store/pg/lsn.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::pg {

struct ReplayView {
  enum class State { replayed, down, unknown };
  State state = State::unknown;
  Lsn position = 0;         // replayed: the standby had replayed this far
  std::uint64_t epoch = 0;  // replayed: the pool's connects when it was sampled
};

class ReplicaMonitor final : public std::enable_shared_from_this<ReplicaMonitor> {
 public:
  static std::shared_ptr<ReplicaMonitor> create(std::shared_ptr<Pool> standby,
                                                std::chrono::milliseconds refresh_after,
                                                std::chrono::milliseconds valid_for);

  ReplayView view();
  bool unchanged_since(std::uint64_t epoch) const noexcept {
    return pool_->counters().connects == epoch;
  }
  // Samples now (view() does it in the background); for tests and start-up.
  boost::asio::awaitable<void> refresh();

  const std::shared_ptr<Pool>& pool() const noexcept { return pool_; }

 private:
  using Clock = std::chrono::steady_clock;
  ReplicaMonitor(std::shared_ptr<Pool> standby, std::chrono::milliseconds refresh_after,
                 std::chrono::milliseconds valid_for)
      : pool_(std::move(standby)), refresh_after_(refresh_after), valid_for_(valid_for) {}

  std::shared_ptr<Pool> pool_;
  std::chrono::milliseconds refresh_after_;
  std::chrono::milliseconds valid_for_;
  std::optional<Clock::time_point> attempted_;  // the last refresh's start
  std::optional<Clock::time_point> sampled_;    // when `position` was read
  Lsn position_ = 0;
  std::uint64_t epoch_ = 0;
  bool down_ = false;
  bool refreshing_ = false;
};

}  // namespace betsdb::pg
