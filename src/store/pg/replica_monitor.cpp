#include "store/pg/replica_monitor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "store/pg/wal.hpp"

namespace betsdb::pg {

namespace asio = boost::asio;

std::shared_ptr<ReplicaMonitor> ReplicaMonitor::create(std::shared_ptr<Pool> standby,
                                                       std::chrono::milliseconds refresh_after,
                                                       std::chrono::milliseconds valid_for) {
  return std::shared_ptr<ReplicaMonitor>(
      new ReplicaMonitor(std::move(standby), refresh_after, valid_for));
}

ReplayView ReplicaMonitor::view() {
  const auto now = Clock::now();
  if (!refreshing_ && !pool_->closed() && (!attempted_ || now - *attempted_ >= refresh_after_)) {
    refreshing_ = true;
    asio::co_spawn(
        pool_->executor(),
        [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->refresh(); },
        asio::detached);
  }
  if (down_) return {ReplayView::State::down, 0, 0};
  if (!sampled_ || now - *sampled_ > valid_for_) return {};
  return {ReplayView::State::replayed, position_, epoch_};
}

asio::awaitable<void> ReplicaMonitor::refresh() {
  refreshing_ = true;
  attempted_ = Clock::now();
  // Taken before: a connection opened meanwhile (even by this query) may be
  // to a standby restarted since, which the sample does not vouch for.
  const std::uint64_t epoch = pool_->counters().connects;
  auto replayed = co_await replay_position(*pool_);
  refreshing_ = false;
  if (!replayed.ok() || !*replayed) {
    down_ = true;
    sampled_.reset();
    co_return;
  }
  down_ = false;
  position_ = **replayed;
  sampled_ = *attempted_;  // the position was at least this when the query started
  epoch_ = epoch;
}

}  // namespace betsdb::pg
