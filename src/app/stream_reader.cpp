#include "app/stream_reader.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/redis_connect.hpp"
#include "store/redis/match_stream.hpp"
#include "store/redis/redis_client.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

namespace {
// Under the client's command timeout (1 s), so a quiet stream is not taken
// for a dead connection.
constexpr std::chrono::milliseconds kBlock{500};
// After a failure (Redis down, a failover): how long before trying again.
// Shorter before the first position: until then no stream is served.
constexpr std::chrono::milliseconds kRetryAfter{200};
constexpr std::chrono::milliseconds kStartRetryAfter{20};
}  // namespace

StreamReader::StreamReader(const Config& config, Deliver deliver, std::function<void()> ready,
                           std::function<void()> gap)
    : deliver_(std::move(deliver)), ready_(std::move(ready)), gap_(std::move(gap)) {
  // main checked the configuration already; the fallback keeps the reader whole.
  auto redis = make_redis(ioc_.get_executor(), config);
  redis_ =
      redis.ok() ? std::move(*redis) : redis::Client::create(ioc_.get_executor(), redis::Config{});
}

StreamReader::~StreamReader() {
  stop();
}

void StreamReader::start() {
  redis_->start();
  asio::co_spawn(ioc_, run(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

void StreamReader::stop() {
  if (!thread_.joinable()) return;
  asio::post(ioc_, [this] {
    stopped_ = true;
    redis_->stop();  // fails the blocked read at once
  });
  thread_.join();
}

asio::awaitable<void> StreamReader::pause(std::chrono::milliseconds how_long) {
  asio::steady_timer timer(ioc_, how_long);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> StreamReader::run() {
  // Clients get what happens from now on; what came before is a replay's.
  std::optional<domain::EventId> last;
  // Set by a failed read: while the reader could not read, the stream may
  // have been trimmed past `last`, and XREAD would skip the trimmed events
  // without a word; a full batch sets it too (below). Checked after the
  // next read that returns events, not before it: an event still held after
  // the read proves the read missed nothing, while one checked before could
  // be trimmed before the read.
  bool check_held = false;
  while (!stopped_) {
    if (!last) {
      auto newest = co_await redis::newest_match_event(*redis_);
      if (!newest.ok()) {
        co_await pause(kStartRetryAfter);
        continue;
      }
      last = newest->value_or(domain::EventId{});
      ready_();
    }
    auto events = co_await redis::read_match_events_after(*redis_, *last, kBlock, kStreamReadBatch);
    if (!events.ok()) {
      spdlog::debug("live stream read failed: {}", events.error().detail);
      check_held = true;
      co_await pause(kRetryAfter);
      continue;
    }
    if (events->empty()) continue;
    // A full batch: the reader may be far behind (a stall, a burst), with
    // events trimmed between `last` and this batch. A batch that is not
    // full read up to the newest event, and the stream keeps more than a
    // batch, so it cannot follow a trimmed one.
    if (events->size() == kStreamReadBatch) check_held = true;
    if (check_held) {
      const domain::EventId position = *last;
      auto held = co_await redis::match_events_held_after(*redis_, position);
      if (!held.ok()) {
        spdlog::debug("live stream check failed: {}", held.error().detail);
        co_await pause(kRetryAfter);
        continue;
      }
      check_held = false;
      if (!*held) {
        // Not delivered: a client given these and then ended would resume
        // from one of them, which is held, and never learn of the gap.
        last = events->back().id;
        spdlog::warn(
            "live stream: events after {} were trimmed before this process read them; ending its "
            "streams so their clients resume",
            position.text());
        gap_();
        continue;
      }
    }
    last = events->back().id;
    auto batch = std::make_shared<api::FrameBatch>();
    batch->reserve(events->size());
    for (const auto& event : *events) batch->push_back(api::match_frame(event));
    deliver_(std::move(batch));
  }
}

}  // namespace betsdb::app
