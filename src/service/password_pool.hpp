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
// Thread-safety: shared by every shard; every member is safe from any thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "service/ports/async.hpp"

namespace betsdb::service {

class PasswordPool final {
 public:
  PasswordPool(std::size_t threads, std::size_t max_waiting);
  ~PasswordPool();
  PasswordPool(const PasswordPool&) = delete;
  PasswordPool& operator=(const PasswordPool&) = delete;

  // Lets the hashes under way finish and ends the threads; later calls
  // never complete. Idempotent; the destructor calls it.
  void stop();

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
};

}  // namespace betsdb::service
