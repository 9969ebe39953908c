#include "app/periodic_task.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace betsdb::app {

namespace asio = boost::asio;

std::shared_ptr<PeriodicTask> PeriodicTask::create(asio::any_io_executor executor,
                                                   std::chrono::milliseconds period, Work work) {
  return std::shared_ptr<PeriodicTask>(
      new PeriodicTask(std::move(executor), period, std::move(work)));
}

PeriodicTask::PeriodicTask(asio::any_io_executor executor, std::chrono::milliseconds period,
                           Work work)
    : executor_(std::move(executor)), period_(period), work_(std::move(work)), timer_(executor_) {}

void PeriodicTask::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void PeriodicTask::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> PeriodicTask::run() {
  while (!stopped_) {
    timer_.expires_after(period_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    co_await work_();
  }
}

}  // namespace betsdb::app
