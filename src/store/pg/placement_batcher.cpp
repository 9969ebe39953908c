#include "store/pg/placement_batcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "store/pg/accumulator_batch.hpp"
#include "store/pg/accumulator_store.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/cash_out_store.hpp"

namespace betsdb::store {

namespace asio = boost::asio;

// A queued placement: a single bet or a cart's bets, an accumulator, or a
// cash-out. Shared by its caller and the batch that takes it, so either may
// go first (a caller's coroutine destroyed at shutdown leaves the batch
// nothing dangling).
struct PlacementBatcher::Waiting {
  // The alternatives' order is Kind's.
  using Ask =
      std::variant<std::vector<domain::BetItem>, domain::AccumulatorItem, domain::CashOutOrder>;
  enum class Kind : std::size_t { bets, accumulator, cash_out };
  using Answer = std::variant<std::monostate, Result<domain::Placement>,
                              Result<domain::AccumulatorPlacement>, Result<domain::CashedOut>>;

  Waiting(const asio::any_io_executor& executor, std::int64_t user, Ask asked)
      : user_id(user), ask(std::move(asked)), done(executor) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  std::int64_t user_id;
  Ask ask;
  asio::steady_timer done;  // cancelled when `answer` is set
  Answer answer;

  Kind kind() const noexcept { return static_cast<Kind>(ask.index()); }
  const std::vector<domain::BetItem>& items() const { return std::get<0>(ask); }
  const domain::AccumulatorItem& accumulator_item() const { return std::get<1>(ask); }
  const domain::CashOutOrder& cash_out_order() const { return std::get<2>(ask); }
  // What it adds to a batch's size: its bets, its legs, or the legs its
  // cash-out checks.
  std::size_t weight() const {
    switch (kind()) {
      case Kind::bets:
        return items().size();
      case Kind::accumulator:
        return accumulator_item().legs.size();
      case Kind::cash_out:
        return std::max<std::size_t>(1, cash_out_order().pending_legs.size());
    }
    return 1;
  }

  template <class Placed>
  void reply(Result<Placed> result) {
    answer.emplace<Result<Placed>>(std::move(result));
    done.cancel();
  }
  void reply_error(const Error& error) {
    switch (kind()) {
      case Kind::bets:
        reply(Result<domain::Placement>(error));
        break;
      case Kind::accumulator:
        reply(Result<domain::AccumulatorPlacement>(error));
        break;
      case Kind::cash_out:
        reply(Result<domain::CashedOut>(error));
        break;
    }
  }
  template <class Placed>
  Result<Placed> take_answer() {
    if (auto* result = std::get_if<Result<Placed>>(&answer)) return std::move(*result);
    return Error::internal("placement batch: no answer");
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
  auto waiting = std::make_shared<Waiting>(
      db_->executor(), user_id, Waiting::Ask(std::in_place_index<0>, items.begin(), items.end()));
  co_await submit(waiting);
  co_return waiting->take_answer<domain::Placement>();
}

asio::awaitable<Result<domain::AccumulatorPlacement>> PlacementBatcher::place_accumulator(
    std::int64_t user_id, const domain::AccumulatorItem& item) {
  auto waiting = std::make_shared<Waiting>(db_->executor(), user_id,
                                           Waiting::Ask(std::in_place_index<1>, item));
  co_await submit(waiting);
  co_return waiting->take_answer<domain::AccumulatorPlacement>();
}

asio::awaitable<Result<domain::CashedOut>> PlacementBatcher::cash_out(
    const domain::CashOutOrder& order) {
  auto waiting = std::make_shared<Waiting>(db_->executor(), order.user_id,
                                           Waiting::Ask(std::in_place_index<2>, order));
  co_await submit(waiting);
  co_return waiting->take_answer<domain::CashedOut>();
}

asio::awaitable<void> PlacementBatcher::submit(std::shared_ptr<Waiting> waiting) {
  if (queue_.empty() && may_start() && !under_load()) {
    ++in_flight_;
    newest_start_ = std::chrono::steady_clock::now();
    ++counters_.batches[0];
    ++counters_.asks;
    // Not given back if this coroutine is destroyed instead of resumed: that
    // happens only when its loop is torn down, and nothing may start then.
    co_await place_alone(*waiting);
    statement_ended(1);
    co_return;
  }
  queue_.push_back(waiting);
  if (in_flight_ > 0) {
    watch_for_stall();
  } else if (!lingering_) {
    linger();
  } else if (queue_.size() >= last_asks_) {
    linger_.cancel();  // its handler starts them
  }
  (void)co_await waiting->done.async_wait(asio::as_tuple(asio::use_awaitable));
}

PlacementBatcher::Batch PlacementBatcher::take_batch() {
  Batch batch;
  std::unordered_set<std::int64_t> users;
  std::size_t items = 0;
  // One statement places one kind: the other waits for the next batch.
  const Waiting::Kind kind = queue_.front()->kind();
  for (auto it = queue_.begin(); it != queue_.end();) {
    const auto& waiting = *it;
    if (!batch.empty() && items + waiting->weight() > kMaxBatchItems) break;
    // One debit per bettor row: a bettor's second placement waits for the next batch.
    if (waiting->kind() != kind || !users.insert(waiting->user_id).second) {
      ++it;
      continue;
    }
    items += waiting->weight();
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
  switch (waiting.kind()) {
    case Waiting::Kind::bets:
      waiting.reply(co_await place_bets(*db_, waiting.user_id, waiting.items()));
      break;
    case Waiting::Kind::accumulator:
      waiting.reply(
          co_await store::place_accumulator(*db_, waiting.user_id, waiting.accumulator_item()));
      break;
    case Waiting::Kind::cash_out:
      waiting.reply(co_await store::cash_out(*db_, waiting.cash_out_order()));
      break;
  }
}

asio::awaitable<void> PlacementBatcher::run(std::shared_ptr<PlacementBatcher> self, Batch batch) {
  ++self->counters_.batches[batch_size_bucket(batch.size())];
  self->counters_.asks += batch.size();
  if (batch.size() == 1) {
    co_await self->place_alone(*batch.front());
  } else {
    switch (batch.front()->kind()) {
      case Waiting::Kind::bets:
        co_await self->run_bets(batch);
        break;
      case Waiting::Kind::accumulator:
        co_await self->run_accumulators(batch);
        break;
      case Waiting::Kind::cash_out:
        co_await self->run_cash_outs(batch);
        break;
    }
  }
  self->statement_ended(batch.size());
}

asio::awaitable<void> PlacementBatcher::run_bets(const Batch& batch) {
  std::vector<PlacementAsk> asks;
  asks.reserve(batch.size());
  for (const auto& waiting : batch) asks.push_back({waiting->user_id, waiting->items()});
  auto placed = co_await place_batch(*db_, asks);
  if (!placed.ok()) {
    co_await after_batch_failed(batch, &placed.error());
  } else if (!placed->has_value()) {
    co_await after_batch_failed(batch, nullptr);
  } else {
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i]->reply(Result<domain::Placement>(std::move((**placed)[i])));
  }
}

asio::awaitable<void> PlacementBatcher::run_accumulators(const Batch& batch) {
  std::vector<AccumulatorAsk> asks;
  asks.reserve(batch.size());
  for (const auto& waiting : batch)
    asks.push_back({waiting->user_id, &waiting->accumulator_item()});
  auto placed = co_await place_accumulator_batch(*db_, asks);
  co_await answer_each(batch, std::move(placed));
}

asio::awaitable<void> PlacementBatcher::run_cash_outs(const Batch& batch) {
  std::vector<const domain::CashOutOrder*> orders;
  orders.reserve(batch.size());
  for (const auto& waiting : batch) orders.push_back(&waiting->cash_out_order());
  auto done = co_await cash_out_batch(*db_, orders);
  co_await answer_each(batch, std::move(done));
}

template <class Answer>
asio::awaitable<void> PlacementBatcher::answer_each(const Batch& batch,
                                                    Result<std::vector<Answer>> answers) {
  if (!answers.ok()) {
    co_await after_batch_failed(batch, &answers.error());
    co_return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    batch[i]->reply(Result<Answer>(std::move((*answers)[i])));
}

asio::awaitable<void> PlacementBatcher::after_batch_failed(const Batch& batch, const Error* error) {
  if (error && !rolled_back_for_the_batch(*error)) {
    for (const auto& waiting : batch) waiting->reply_error(*error);
    co_return;
  }
  // A liability limit or a concurrent duplicate is the batch's to meet;
  // anything else is worth a line.
  if (error && !error->is(Errc::conflict)) {
    spdlog::warn("placement batch of {} failed, placing each alone: {}", batch.size(),
                 error->detail);
  }
  counters_.retried_alone += batch.size();
  for (const auto& waiting : batch) co_await place_alone(*waiting);
}

}  // namespace betsdb::store
