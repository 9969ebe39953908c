#include "util/single_flight.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <vector>

namespace betsdb {

namespace asio = boost::asio;

struct SingleFlight::Flight {
  std::mutex mutex;
  bool done = false;
  std::optional<Result<std::string>> result;
  std::vector<std::function<void()>> wake_ups;
};

asio::awaitable<Result<std::string>> SingleFlight::run(const std::string& key, Load load) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = flights_.try_emplace(key);
    if (inserted) it->second = std::make_shared<Flight>();
    flight = it->second;
    leader = inserted;
  }

  if (leader) {
    std::optional<Result<std::string>> result;
    std::exception_ptr failure;
    try {
      result.emplace(co_await load());
    } catch (...) {
      failure = std::current_exception();
      result.emplace(Error::internal("the shared load failed"));
    }
    {
      std::lock_guard lock(mutex_);
      flights_.erase(key);
    }
    std::vector<std::function<void()>> wake_ups;
    {
      std::lock_guard lock(flight->mutex);
      flight->done = true;
      flight->result = *result;
      wake_ups.swap(flight->wake_ups);
    }
    for (auto& wake : wake_ups) wake();
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*result);
  }

  // A follower: park on a timer of our own executor until the leader wakes us.
  // Nothing runs on this executor between registering and async_wait (we do
  // not suspend in between), so the posted cancel cannot come too early.
  auto executor = co_await asio::this_coro::executor;
  auto timer =
      std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  bool done = false;
  {
    std::lock_guard lock(flight->mutex);
    done = flight->done;
    if (!done) {
      flight->wake_ups.push_back(
          [timer, executor] { asio::post(executor, [timer] { timer->cancel(); }); });
    }
  }
  if (!done) co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(flight->mutex);
  co_return *flight->result;
}

std::size_t SingleFlight::in_flight() const {
  std::lock_guard lock(mutex_);
  return flights_.size();
}

}  // namespace betsdb
