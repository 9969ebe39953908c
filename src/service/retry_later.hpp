// Work that already counts as done for the client but did not reach Redis
// (an idempotency answer, a cart's placed items, a revocation mark): tried
// again in the background, quick at first (a reset connection is back
// within ~50 ms), then at most every `max_delay`, until it succeeds or
// `give_up_after` has passed, when it would no longer matter.
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>

namespace betsdb::service {

struct RetryPlan {
  std::chrono::milliseconds first_delay{50};
  std::chrono::milliseconds max_delay{1000};
  std::chrono::steady_clock::duration give_up_after;
};

// True once `attempt` succeeded; false when the plan gave up.
inline boost::asio::awaitable<bool> retry_later(
    std::function<boost::asio::awaitable<bool>()> attempt, RetryPlan plan) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto give_up = std::chrono::steady_clock::now() + plan.give_up_after;
  auto delay = plan.first_delay;
  while (std::chrono::steady_clock::now() < give_up) {
    timer.expires_after(delay);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    const bool done = co_await attempt();
    if (done) co_return true;
    delay = std::min(delay * 2, plan.max_delay);
  }
  co_return false;
}

}  // namespace betsdb::service
