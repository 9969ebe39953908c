// The process's one reader of the live stream: follows the Redis stream with
// XREAD BLOCK on a connection of its own (a blocked command would hold up
// every command pipelined behind it) and hands each batch of events to every
// shard's hub (api/stream_hub.hpp). So one Redis read per event per process,
// whatever the number of clients.
//
// Thread-safety: start() and stop() from the thread that owns it; the rest
// runs on a thread of its own.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

#include "api/stream_hub.hpp"
#include "app/config.hpp"
#include "store/redis/commands.hpp"

namespace betsdb::app {

// The most events one read takes. The stream keeps far more
// (service::Wiring::stream_keep, 10,000), which is what lets a read that
// returns fewer prove that nothing before them was trimmed.
inline constexpr std::size_t kStreamReadBatch = 500;

class StreamReader final {
 public:
  using Deliver = std::function<void(std::shared_ptr<const api::FrameBatch>)>;

  // `deliver`, `ready` and `gap` are called on the reader's thread: they
  // must post to the shards. `ready`, once, when the reader knows its
  // position: from then on it misses no event, so streams may be served.
  // `gap`, when the stream may have been trimmed past the reader's position
  // while it could not read (Redis out of reach while more than the stream
  // keeps was published) or fell behind (a full batch, read after the
  // reader's thread stalled; a position the stream never held counts too): the
  // events in between are lost to the open streams, so every one must end;
  // its client resumes from its last id and the replay sends what it
  // missed, or `reset`. The batch that showed the gap is not delivered; the
  // events after it are, after `gap`.
  StreamReader(const Config& config, Deliver deliver, std::function<void()> ready,
               std::function<void()> gap);
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  void start();
  void stop();  // and join

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds how_long);

  boost::asio::io_context ioc_{1};
  redis::CommandsPtr redis_;
  Deliver deliver_;
  std::function<void()> ready_;
  std::function<void()> gap_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace betsdb::app
