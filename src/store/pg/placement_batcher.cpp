#include "store/pg/placement_batcher.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unordered_set>
#include <vector>

#include "store/pg/bet_store.hpp"

namespace betsdb::store {

namespace asio = boost::asio;

// A queued placement. Shared by its caller and the batch that takes it, so
// either may go first (a caller's coroutine destroyed at shutdown leaves the
// batch nothing dangling).
struct PlacementBatcher::Waiting {
  Waiting(const asio::any_io_executor& executor, std::int64_t user,
          std::span<const domain::BetItem> asked)
      : user_id(user), items(asked.begin(), asked.end()), done(executor) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  std::int64_t user_id;
  std::vector<domain::BetItem> items;
  asio::steady_timer done;  // cancelled when `result` is set
  std::optional<Result<domain::Placement>> result;

  void answer(Result<domain::Placement> r) {
    result.emplace(std::move(r));
    done.cancel();
  }
};

namespace {

// Rolled back by PostgreSQL with nothing placed, for a reason that may be
// the batch's and not every ask's: a unique violation (some ask's concurrent
// duplicate), a deadlock, a serialization failure, or any other error the
// statement met. Not when PostgreSQL is unavailable (alone would fail the
// same) or the outcome is unknown (the batch may have committed).
bool rolled_back_for_the_batch(const Error& error) {
  return !error.outcome_unknown && !error.is(Errc::service_unavailable);
}

}  // namespace

std::size_t batch_size_bucket(std::size_t asks) noexcept {
  std::size_t bucket = 0;
  for (std::size_t bound = 2; asks >= bound && bucket + 1 < kBatchSizeBuckets; bound *= 2) ++bucket;
  return bucket;
}

PlacementBatcher::PlacementBatcher(std::shared_ptr<pg::Pool> db, BatchLinger linger,
                                   std::chrono::milliseconds stall_after)
    : db_(std::move(db)),
      stall_(db_->executor()),
      stall_after_(stall_after),
      linger_config_(linger),
      linger_(db_->executor()) {}

bool PlacementBatcher::under_load() const noexcept {
  return last_asks_ >= 2 && std::chrono::steady_clock::now() - last_end_ < linger_config_.window;
}

void PlacementBatcher::linger() {
  lingering_ = true;
  linger_.expires_after(linger_config_.wait);
  linger_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
    self->lingering_ = false;
    self->start_queued();
  });
}

bool PlacementBatcher::may_start() const noexcept {
  if (in_flight_ < kMaxInFlight) return true;
  return in_flight_ < kMaxInFlightStalled &&
         std::chrono::steady_clock::now() - newest_start_ >= stall_after_;
}

void PlacementBatcher::watch_for_stall() {
  if (watching_ || in_flight_ >= kMaxInFlightStalled) return;
  watching_ = true;
  stall_.expires_at(newest_start_ + stall_after_);
  stall_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
    self->watching_ = false;
    self->start_queued();
  });
}

asio::awaitable<Result<domain::Placement>> PlacementBatcher::place(
    std::int64_t user_id, std::span<const domain::BetItem> items) {
  if (queue_.empty() && may_start() && !under_load()) {
    ++in_flight_;
    newest_start_ = std::chrono::steady_clock::now();
    ++counters_.batches[0];
    ++counters_.asks;
    // Not given back if this coroutine is destroyed instead of resumed: that
    // happens only when its loop is torn down, and nothing may start then.
    auto placed = co_await place_bets(*db_, user_id, items);
    statement_ended(1);
    co_return std::move(placed);
  }
  auto waiting = std::make_shared<Waiting>(db_->executor(), user_id, items);
  queue_.push_back(waiting);
  if (in_flight_ > 0) {
    watch_for_stall();
  } else if (!lingering_) {
    linger();
  } else if (queue_.size() >= last_asks_) {
    linger_.cancel();  // its handler starts them
  }
  (void)co_await waiting->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!waiting->result) co_return Error::internal("placement batch: no answer");
  co_return std::move(*waiting->result);
}

PlacementBatcher::Batch PlacementBatcher::take_batch() {
  Batch batch;
  std::unordered_set<std::int64_t> users;
  std::size_t items = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const auto& waiting = *it;
    if (!batch.empty() && items + waiting->items.size() > kMaxBatchItems) break;
    // One debit per bettor row: a bettor's second placement waits for the next batch.
    if (!users.insert(waiting->user_id).second) {
      ++it;
      continue;
    }
    items += waiting->items.size();
    batch.push_back(waiting);
    it = queue_.erase(it);
  }
  return batch;
}

void PlacementBatcher::statement_ended(std::size_t asks) {
  --in_flight_;
  last_end_ = std::chrono::steady_clock::now();
  last_asks_ = asks;
  start_queued();
}

void PlacementBatcher::start_queued() {
  if (lingering_) return;
  while (!queue_.empty() && may_start()) {
    ++in_flight_;
    newest_start_ = std::chrono::steady_clock::now();
    asio::co_spawn(db_->executor(), run(shared_from_this(), take_batch()), asio::detached);
  }
  if (!queue_.empty()) {
    watch_for_stall();
  } else if (watching_) {
    // Nothing left to rescue; a watch left armed would keep the loop (and
    // this batcher) busy until it fired, a minute where a test pins it.
    stall_.cancel();
  }
}

asio::awaitable<void> PlacementBatcher::place_alone(Waiting& waiting) {
  waiting.answer(co_await place_bets(*db_, waiting.user_id, waiting.items));
}

asio::awaitable<void> PlacementBatcher::run(std::shared_ptr<PlacementBatcher> self, Batch batch) {
  ++self->counters_.batches[batch_size_bucket(batch.size())];
  self->counters_.asks += batch.size();
  if (batch.size() == 1) {
    co_await self->place_alone(*batch.front());
  } else {
    std::vector<PlacementAsk> asks;
    asks.reserve(batch.size());
    for (const auto& waiting : batch) asks.push_back({waiting->user_id, waiting->items});
    auto placed = co_await place_batch(*self->db_, asks);
    if (placed.ok() && placed->has_value()) {
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->answer(std::move((**placed)[i]));
    } else if (placed.ok() || rolled_back_for_the_batch(placed.error())) {
      // A liability limit is the batch's to meet; anything else is worth a line.
      if (!placed.ok() && !placed.error().is(Errc::conflict)) {
        spdlog::warn("placement batch of {} failed, placing each alone: {}", batch.size(),
                     placed.error().detail);
      }
      self->counters_.retried_alone += batch.size();
      for (const auto& waiting : batch) co_await self->place_alone(*waiting);
    } else {
      for (const auto& waiting : batch) waiting->answer(placed.error());
    }
  }
  self->statement_ended(batch.size());
}

}  // namespace betsdb::store
