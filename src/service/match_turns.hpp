// Turns per match: at most one placement of this shard on a match is with
// PostgreSQL at a time; the others wait here, in arrival order.
//
// Why: a placement takes its match's exposure row FOR UPDATE until it
// commits (docs/architecture.md, "Trading safety"), so placements on one
// match run one after another in PostgreSQL anyway. When many wait there, every
// commit wakes them all to fight for the row again, and on a hot match (every
// bet on one match, a cup final's kick-off) that costs more than the
// placements themselves (docs/performance.md, "place_hot"). Waiting here
// instead costs nothing in PostgreSQL, and each shard sends the next one as
// soon as the previous one answered. Bets on different matches never wait
// for each other.
//
// A turn is held by a Turn value and passed on when it is destroyed. A wait
// is bounded (kMaxTurnWait): past it, service_unavailable.
//
// Not thread-safe: one per shard, used from its thread only.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "service/ports/async.hpp"

namespace betsdb::service {

class MatchTurns final {
 public:
  // Longer than any normal wait (a placement takes milliseconds, even with
  // a queue of them), shorter than a client's patience.
  static constexpr std::chrono::milliseconds kMaxTurnWait{5'000};

  explicit MatchTurns(std::chrono::milliseconds max_wait = kMaxTurnWait) : max_wait_(max_wait) {}

  // Holds the turns on some matches; passes each on when destroyed.
  class Turns final {
   public:
    Turns() = default;
    Turns(Turns&& other) noexcept;
    Turns& operator=(Turns&&) = delete;
    Turns(const Turns&) = delete;
    Turns& operator=(const Turns&) = delete;
    ~Turns();

   private:
    friend class MatchTurns;
    Turns(std::shared_ptr<MatchTurns> owner, std::vector<std::int64_t> match_ids) noexcept;
    std::shared_ptr<MatchTurns> owner_;
    std::vector<std::int64_t> match_ids_;
  };

  // Waits for the turn on every match of `match_ids` (any order, repeats
  // allowed), taken in ascending order so two callers never wait for each
  // other in a cycle.
  static Async<Turns> take(std::shared_ptr<MatchTurns> self, std::vector<std::int64_t> match_ids);

  // Matches with a placement in flight or waiting (for tests and metrics).
  std::size_t busy_matches() const noexcept { return queues_.size(); }

 private:
  struct Waiter {
    boost::asio::steady_timer timer;
    bool granted = false;
  };
  struct Queue {
    std::deque<std::shared_ptr<Waiter>> waiters;
  };

  Async<void> take_one(std::int64_t match_id);
  void pass_on(std::int64_t match_id);

  std::chrono::milliseconds max_wait_;
  // A match is here while its turn is held; its waiters in arrival order.
  std::unordered_map<std::int64_t, Queue> queues_;
};

}  // namespace betsdb::service
