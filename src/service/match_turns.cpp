#include "service/match_turns.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace betsdb::service {

namespace asio = boost::asio;

MatchTurns::Turns::Turns(std::shared_ptr<MatchTurns> owner,
                         std::vector<std::int64_t> match_ids) noexcept
    : owner_(std::move(owner)), match_ids_(std::move(match_ids)) {}

MatchTurns::Turns::Turns(Turns&& other) noexcept
    : owner_(std::move(other.owner_)), match_ids_(std::move(other.match_ids_)) {}

MatchTurns::Turns::~Turns() {
  if (!owner_) return;
  for (auto id : match_ids_) owner_->pass_on(id);
}

Async<MatchTurns::Turns> MatchTurns::take(std::shared_ptr<MatchTurns> self,
                                          std::vector<std::int64_t> match_ids) {
  std::sort(match_ids.begin(), match_ids.end());
  match_ids.erase(std::unique(match_ids.begin(), match_ids.end()), match_ids.end());
  // Grows with each turn taken, so a failure part-way passes on those held.
  Turns held(self, {});
  held.match_ids_.reserve(match_ids.size());
  for (auto id : match_ids) {
    auto taken = co_await self->take_one(id);
    if (!taken.ok()) co_return std::move(taken).error();
    held.match_ids_.push_back(id);
  }
  co_return std::move(held);
}

Async<void> MatchTurns::take_one(std::int64_t match_id) {
  if (queues_.try_emplace(match_id).second) co_return Status{};  // nobody holds it: ours
  const auto executor = co_await asio::this_coro::executor;      // does not suspend
  auto waiter = std::make_shared<Waiter>(Waiter{asio::steady_timer(executor, max_wait_), false});
  queues_.at(match_id).waiters.push_back(waiter);
  (void)co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter->granted) co_return Status{};
  // Timed out, or the wait was cancelled: leave the line.
  if (auto q = queues_.find(match_id); q != queues_.end()) {
    std::erase(q->second.waiters, waiter);
  }
  co_return Error::unavailable("Too many bets on this match are being placed; retry shortly.");
}

void MatchTurns::pass_on(std::int64_t match_id) {
  auto it = queues_.find(match_id);
  if (it == queues_.end()) return;
  auto& waiters = it->second.waiters;
  if (waiters.empty()) {
    queues_.erase(it);
    return;
  }
  auto next = std::move(waiters.front());
  waiters.pop_front();
  next->granted = true;
  next->timer.cancel();  // wakes it, holding the turn
}

}  // namespace betsdb::service
