#include "service/match_event_publisher.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace betsdb::service {

namespace asio = boost::asio;

std::shared_ptr<MatchEventPublisher> MatchEventPublisher::create(
    asio::any_io_executor executor, Context& ctx, MatchRenderer render,
    std::chrono::milliseconds sweep_every) {
  return std::shared_ptr<MatchEventPublisher>(
      new MatchEventPublisher(std::move(executor), ctx, std::move(render), sweep_every));
}

MatchEventPublisher::MatchEventPublisher(asio::any_io_executor executor, Context& ctx,
                                         MatchRenderer render,
                                         std::chrono::milliseconds sweep_every)
    : executor_(std::move(executor)),
      ctx_(ctx),
      render_(std::move(render)),
      sweep_every_(sweep_every),
      timer_(executor_) {}

void MatchEventPublisher::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->sweep(); }, asio::detached);
}

void MatchEventPublisher::nudge() {
  if (stopped_) return;
  if (running_) {
    again_ = true;
    return;
  }
  running_ = true;
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void MatchEventPublisher::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> MatchEventPublisher::run() {
  do {
    again_ = false;
    auto published = co_await publish_match_changes(ctx_, render_);
    // Logged at debug only: during an outage every sweep fails the same way,
    // and /readyz already says which dependency is down.
    if (!published.ok()) spdlog::debug("match events wait: {}", published.error().detail);
  } while (again_ && !stopped_);
  running_ = false;
}

asio::awaitable<void> MatchEventPublisher::sweep() {
  while (!stopped_) {
    timer_.expires_after(sweep_every_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!stopped_) nudge();
  }
}

}  // namespace betsdb::service
