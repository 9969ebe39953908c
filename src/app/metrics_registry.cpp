#include "app/metrics_registry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "util/logging.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

void MetricsRegistry::add_shard(ShardSource source) {
  shards_.push_back(std::move(source));
  std::lock_guard lock(last_mutex_);
  last_.resize(shards_.size());
}

asio::awaitable<std::vector<std::optional<ShardSnapshot>>> MetricsRegistry::gather(
    std::chrono::milliseconds wait) const {
  // Only the gathering coroutine's thread touches State: each shard's job
  // takes its snapshot on its own thread and posts the result back here.
  // State holds no Asio object, so a job still queued on a shard that stops
  // can be destroyed with that shard's loop at any time.
  struct State {
    std::vector<std::optional<ShardSnapshot>> results;
    std::size_t pending = 0;
    asio::steady_timer* timer = nullptr;  // null once the gatherer stopped waiting
  };
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>();
  state->results.resize(shards_.size());
  state->pending = shards_.size();
  if (shards_.empty()) co_return std::move(state->results);

  asio::steady_timer timer(executor, wait);
  state->timer = &timer;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const ShardSource* shard = &shards_[i];
    asio::post(shard->executor, [state, executor, i, shard]() {
      ShardSnapshot snapshot = shard->snapshot();
      asio::post(executor, [state, i, snapshot = std::move(snapshot)]() mutable {
        if (!state->timer) return;  // answered too late: the scrape is gone
        state->results[i] = std::move(snapshot);
        if (--state->pending == 0) state->timer->cancel();
      });
    });
  }
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  state->timer = nullptr;
  co_return std::move(state->results);
}

asio::awaitable<std::string> MetricsRegistry::render(std::chrono::milliseconds wait) const {
  auto answers = co_await gather(wait);
  ScrapeInput input;
  input.shard_count = shards_.size();
  input.dropped_log_lines = logging::dropped_lines();
  for (const auto& shard : shards_) {
    input.requests.push_back(shard.requests);
    if (shard.counters) input.counters.push_back(shard.counters);
  }
  {
    std::lock_guard lock(last_mutex_);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      if (answers[i]) {
        last_[i] = answers[i];
      } else {
        ++input.stale_shards;
      }
      if (last_[i]) input.shards.push_back(*last_[i]);
    }
  }
  co_return render_metrics(input);
}

}  // namespace betsdb::app
