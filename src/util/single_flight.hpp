// Single-flight: concurrent callers asking for the same key share one load.
// The first caller (the leader) runs the load; callers arriving while it runs
// wait and get its result, whichever shard (thread) they run on. A key is
// forgotten as soon as its load finishes, so a later caller loads afresh:
// this collapses a stampede, it does not cache.
//
// Thread-safety: one instance is shared by all shards. The map and each
// flight are guarded by mutexes held only for a few instructions, never
// across an await; waiters are woken on their own executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/result.hpp"

namespace betsdb {

class SingleFlight final {
 public:
  using Load = std::function<boost::asio::awaitable<Result<std::string>>()>;

  boost::asio::awaitable<Result<std::string>> run(const std::string& key, Load load);

  // Loads in progress now (for tests and metrics).
  std::size_t in_flight() const;

 private:
  struct Flight;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace betsdb
