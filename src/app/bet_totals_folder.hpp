// Folds the bets' unfolded total changes into the summary's totals every
// `period` (store/pg/bet_totals.hpp), so that the summary reads few of them
// however long the server runs. One shard of each instance runs it; folds of
// several instances take turns (the others skip theirs).
//
// Thread-safety: the owning shard's thread only. Owned through a shared_ptr:
// its loop holds it until it ends.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "store/pg/pool.hpp"

namespace betsdb::app {

class BetTotalsFolder final : public std::enable_shared_from_this<BetTotalsFolder> {
 public:
  static std::shared_ptr<BetTotalsFolder> create(boost::asio::any_io_executor executor,
                                                 std::shared_ptr<pg::Pool> db,
                                                 std::chrono::milliseconds period);
  void start();
  void stop();

 private:
  BetTotalsFolder(boost::asio::any_io_executor executor, std::shared_ptr<pg::Pool> db,
                  std::chrono::milliseconds period);
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<pg::Pool> db_;
  std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace betsdb::app
