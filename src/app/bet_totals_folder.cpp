#include "app/bet_totals_folder.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/pg/bet_totals.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

std::shared_ptr<BetTotalsFolder> BetTotalsFolder::create(asio::any_io_executor executor,
                                                         std::shared_ptr<pg::Pool> db,
                                                         std::chrono::milliseconds period) {
  return std::shared_ptr<BetTotalsFolder>(
      new BetTotalsFolder(std::move(executor), std::move(db), period));
}

BetTotalsFolder::BetTotalsFolder(asio::any_io_executor executor, std::shared_ptr<pg::Pool> db,
                                 std::chrono::milliseconds period)
    : executor_(std::move(executor)), db_(std::move(db)), period_(period), timer_(executor_) {}

void BetTotalsFolder::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void BetTotalsFolder::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> BetTotalsFolder::run() {
  while (!stopped_) {
    timer_.expires_after(period_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    auto folded = co_await store::fold_bet_totals(*db_);
    // Debug only: during an outage every fold fails the same way, /readyz
    // says which dependency is down, and the changes wait for the next fold.
    if (!folded.ok()) spdlog::debug("bet totals fold: {}", folded.error().detail);
  }
}

}  // namespace betsdb::app
