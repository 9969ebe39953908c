// The threads that hash and verify passwords. Argon2id takes tens of
// milliseconds and 64 MiB a call by design; on a shard's event loop that
// would stall every request of the shard, so the calls run here and the
// caller's coroutine resumes on its own executor with the answer.
//
// At most `threads` hashes run at once (memory: 64 MiB each) and at most
// `max_waiting` wait; past that the call fails with service_unavailable at
// once rather than queueing without bound. The threads run at a lower CPU
// priority (nice 10) than the shards' loops: on a machine with as many cores
// as loops, a burst of sign-ins must not make every other request wait for
// a core.
//
// One client must not take the whole queue: a flood of sign-ins from one
// address would otherwise fill it, and every other sign-in of the instance
// would be refused until the flood stopped. A sign-in first takes one of
// its client's `per_client` turns (enter(); the client is an address, or an
// IPv6 /64, as http::client_block gives it), held until it is answered, so
// one client has at most that many sign-ins under way at once; past it,
// too_many_requests. Many clients can still fill the queue together; that
// is the waiting room's bound, above.
//
// Thread-safety: shared by every shard; every member is safe from any thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "service/ports/async.hpp"

namespace betsdb::service {

class PasswordPool final {
 public:
  // One of a client's turns, given back when destroyed.
  class Turn {
   public:
    Turn(Turn&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), client_(std::move(other.client_)) {}
    Turn& operator=(Turn&&) = delete;
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn();

   private:
    friend class PasswordPool;
    Turn(PasswordPool* pool, std::string client) : pool_(pool), client_(std::move(client)) {}
    PasswordPool* pool_;
    std::string client_;
  };

  // `per_client` 0: no limit per client.
  PasswordPool(std::size_t threads, std::size_t max_waiting, std::size_t per_client = 0);
  ~PasswordPool();
  PasswordPool(const PasswordPool&) = delete;
  PasswordPool& operator=(const PasswordPool&) = delete;

  // Lets the hashes under way finish and ends the threads; later calls
  // never complete. Idempotent; the destructor calls it.
  void stop();

  // A turn for `client`, or nullopt while it holds `per_client` already.
  std::optional<Turn> enter(const std::string& client);

  Async<std::string> hash(std::string password);
  Async<bool> verify(std::string encoded_hash, std::string password);

 private:
  template <class Work>
  auto run(Work work) -> Async<decltype(work())>;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running_;
  std::vector<std::thread> threads_;
  const std::size_t max_in_flight_;
  std::atomic<std::size_t> in_flight_{0};
  const std::size_t per_client_;
  std::mutex turns_mutex_;
  std::unordered_map<std::string, std::size_t> turns_;  // only clients holding one
};

}  // namespace betsdb::service
