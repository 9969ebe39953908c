// Group commit for placements: a shard's concurrent placements (single bets,
// cart checkouts and accumulators) and cash-outs share one statement and one
// commit when they have to wait anyway (docs/architecture.md, "Placing in
// batches").
//
// One placing statement of a shard is with PostgreSQL at a time. A placement
// that finds none in flight and nobody queued goes at once, alone, with
// place_bets(), place_accumulator() or cash_out(): a lone bet waits for no
// batch. Otherwise it queues; each time a statement answers, everything
// queued of the kind first in line (up to kMaxBatchItems items or legs, one
// ask per bettor) goes as one batch through place_batch(),
// place_accumulator_batch() or cash_out_batch(). So batches form only under
// load, and grow with it. Under load, a placement that finds the shard idle
// lingers briefly for its batch-mates (BatchLinger). A statement that takes
// longer than kStallAfter (it waits on a row another transaction holds: a
// settlement, a hot match's exposure row) lets the queue go beside it, and
// so on up to kMaxInFlightStalled statements, so one slow bet holds up its
// own batch, not the shard's.
//
// Each placement gets its own answer. When the batch cannot decide for each
// on its own (the singles together would pass a match's liability limit),
// or its statement fails and was rolled back (a concurrent duplicate, a
// deadlock), every ask of it is placed again alone: one retry, never more.
// An error that leaves the outcome unknown (the connection was lost) or that
// means PostgreSQL is unavailable is every ask's answer.
//
// Not thread-safe: one per shard, used from its thread only.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "domain/cash_out.hpp"
#include "domain/placement.hpp"
#include "store/pg/placement_batch.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

// Batches by number of asks: 1, 2-3, 4-7, 8-15, 16-31, 32 and more.
inline constexpr std::size_t kBatchSizeBuckets = 6;

struct PlacementBatchCounters {
  std::array<std::uint64_t, kBatchSizeBuckets> batches{};  // statements, by asks in them
  std::uint64_t asks = 0;                                  // placements sent, in all of them
  std::uint64_t retried_alone = 0;  // asks placed again alone after their batch could not decide
};

// The bucket of a batch of `asks` asks.
std::size_t batch_size_bucket(std::size_t asks) noexcept;

// Under load (a statement of several asks ended within `window`), a
// placement that finds the shard idle waits up to `wait`, or until as many
// placements as that statement carried have queued, before its statement
// goes. The bettors of a batch that just answered send their next bets over
// the next few hundred microseconds; without the wait the first of them went
// alone and held the others back a whole statement (bench/run on 2 cores:
// statements of one ask fell from 54% to 8% of all, place rose about 15%;
// docs/performance.md, "Group commit"). Without load nothing waits.
struct BatchLinger {
  std::chrono::microseconds wait{500};
  std::chrono::milliseconds window{5};
};

class PlacementBatcher final : public std::enable_shared_from_this<PlacementBatcher> {
 public:
  // One statement per shard: fewer, larger batches beat more, smaller ones
  // (bench/run on 2 cores: one in flight per shard placed 18% more bets a
  // second than two, at a lower p99; docs/performance.md, "Group commit").
  static constexpr std::size_t kMaxInFlight = 1;
  static constexpr std::size_t kMaxInFlightStalled = 4;
  // Several times a normal batch's statement (2-4 ms under load).
  static constexpr std::chrono::milliseconds kStallAfter{20};
  // Bounds one statement's size (and its time holding the rows it locks):
  // bets, or accumulators' legs.
  static constexpr std::size_t kMaxBatchItems = 64;

  // `stall_after`: kStallAfter; tests that count statements pin it far
  // out, so that a slow machine's statement never counts as stalled.
  explicit PlacementBatcher(std::shared_ptr<pg::Pool> db, BatchLinger linger = {},
                            std::chrono::milliseconds stall_after = kStallAfter);
  PlacementBatcher(const PlacementBatcher&) = delete;
  PlacementBatcher& operator=(const PlacementBatcher&) = delete;

  // As place_bets(db, user_id, items).
  boost::asio::awaitable<Result<domain::Placement>> place(std::int64_t user_id,
                                                          std::span<const domain::BetItem> items);
  // As place_accumulator(db, user_id, item).
  boost::asio::awaitable<Result<domain::AccumulatorPlacement>> place_accumulator(
      std::int64_t user_id, const domain::AccumulatorItem& item);
  // As cash_out(db, order).
  boost::asio::awaitable<Result<domain::CashedOut>> cash_out(const domain::CashOutOrder& order);

  const PlacementBatchCounters& counters() const noexcept { return counters_; }
  std::size_t queued() const noexcept { return queue_.size(); }

 private:
  struct Waiting;
  using Batch = std::vector<std::shared_ptr<Waiting>>;

  Batch take_batch();
  // Whether another statement may go now (none in flight, or the newest has stalled).
  bool may_start() const noexcept;
  void start_queued();
  // A statement of `asks` placements answered: remembered for under_load(),
  // and the queue may go.
  void statement_ended(std::size_t asks);
  // Whether a placement that finds the shard idle should wait (BatchLinger).
  bool under_load() const noexcept;
  void linger();
  // Makes sure start_queued() runs when the newest statement would count as stalled.
  void watch_for_stall();
  // Places `waiting` at once or queues it, and returns once it is answered.
  boost::asio::awaitable<void> submit(std::shared_ptr<Waiting> waiting);
  static boost::asio::awaitable<void> run(std::shared_ptr<PlacementBatcher> self, Batch batch);
  boost::asio::awaitable<void> run_bets(const Batch& batch);
  boost::asio::awaitable<void> run_accumulators(const Batch& batch);
  boost::asio::awaitable<void> run_cash_outs(const Batch& batch);
  // Each ask its own answer, in order; or, when the statement failed,
  // after_batch_failed().
  template <class Answer>
  boost::asio::awaitable<void> answer_each(const Batch& batch, Result<std::vector<Answer>> answers);
  // The batch's statement placed nothing because of `error` (none: a
  // liability limit): each ask placed again alone, or `error` for each when
  // alone would meet it too.
  boost::asio::awaitable<void> after_batch_failed(const Batch& batch, const Error* error);
  boost::asio::awaitable<void> place_alone(Waiting& waiting);

  std::shared_ptr<pg::Pool> db_;
  std::size_t in_flight_ = 0;
  std::chrono::steady_clock::time_point newest_start_{};
  boost::asio::steady_timer stall_;
  bool watching_ = false;
  std::chrono::milliseconds stall_after_;
  BatchLinger linger_config_;
  boost::asio::steady_timer linger_;
  bool lingering_ = false;
  std::chrono::steady_clock::time_point last_end_{};  // of the newest statement that ended
  std::size_t last_asks_ = 0;                         // and how many asks it carried
  std::deque<std::shared_ptr<Waiting>> queue_;
  PlacementBatchCounters counters_;
};

}  // namespace betsdb::store
