// Work a process does every `period` in the background, on one shard: the
// summary's totals folded (store/pg/bet_totals.hpp), spent sessions deleted
// (store/pg/session_pruning.hpp). Each run ends before the next is timed;
// a run that fails waits for the next (the work logs why).
//
// Thread-safety: the owning shard's thread only. Owned through a shared_ptr:
// its loop holds it until it ends.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace betsdb::app {

class PeriodicTask final : public std::enable_shared_from_this<PeriodicTask> {
 public:
  using Work = std::function<boost::asio::awaitable<void>()>;
  static std::shared_ptr<PeriodicTask> create(boost::asio::any_io_executor executor,
                                              std::chrono::milliseconds period, Work work);
  void start();
  void stop();

 private:
  PeriodicTask(boost::asio::any_io_executor executor, std::chrono::milliseconds period, Work work);
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds period_;
  Work work_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace betsdb::app
