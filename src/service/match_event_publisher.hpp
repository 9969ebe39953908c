// Runs publish_match_changes (service/match_events.hpp) for one shard: right
// after each match change this shard commits (nudge), and every second for
// what a failure left behind or another process wrote (betsdb import, an
// instance that died between commit and publish, a Redis outage).
//
// Thread-safety: the shard's thread only. Owned through a shared_ptr: its
// runs hold it until they end.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "service/context.hpp"
#include "service/match_events.hpp"

namespace betsdb::service {

class MatchEventPublisher final : public std::enable_shared_from_this<MatchEventPublisher> {
 public:
  // `ctx` must outlive every run (the shard's).
  static std::shared_ptr<MatchEventPublisher> create(boost::asio::any_io_executor executor,
                                                     Context& ctx, MatchRenderer render,
                                                     std::chrono::milliseconds sweep_every);

  void start();  // the sweeps
  // Publishes now, or, while a run is going, once more right after it: a
  // change committed during a run's read of the outbox is not left waiting
  // for the next sweep.
  void nudge();
  void stop();

 private:
  MatchEventPublisher(boost::asio::any_io_executor executor, Context& ctx, MatchRenderer render,
                      std::chrono::milliseconds sweep_every);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> sweep();

  boost::asio::any_io_executor executor_;
  Context& ctx_;
  MatchRenderer render_;
  std::chrono::milliseconds sweep_every_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  bool again_ = false;
  bool stopped_ = false;
};

}  // namespace betsdb::service
