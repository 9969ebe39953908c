#include "service/password_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "util/password.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {
constexpr int kNice = 10;

// A plain coroutine, not a coroutine lambda: its parameter (the work and the
// strings it holds) lives in the frame, which g++ 12 handles correctly.
template <class Work>
asio::awaitable<std::optional<std::invoke_result_t<Work>>> call(Work work) {
  co_return work();
}
}  // namespace

PasswordPool::PasswordPool(std::size_t threads, std::size_t max_waiting, std::size_t per_client)
    : keep_running_(io_.get_executor()),
      max_in_flight_(threads + max_waiting),
      per_client_(per_client) {
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      // Nice applies per thread on Linux; failing to lower it is harmless.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice);
      io_.run();
    });
  }
  // Made now (tens of milliseconds), not by the first sign-in of an unknown
  // email, whose answer would then take longer than a wrong password's.
  (void)decoy_password_hash();
}

PasswordPool::~PasswordPool() {
  stop();
}

void PasswordPool::stop() {
  keep_running_.reset();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::optional<PasswordPool::Turn> PasswordPool::enter(const std::string& client) {
  if (per_client_ == 0) return Turn(nullptr, {});
  const std::lock_guard lock(turns_mutex_);
  std::size_t& held = turns_[client];
  if (held >= per_client_) return std::nullopt;
  ++held;
  return Turn(this, client);
}

PasswordPool::Turn::~Turn() {
  if (pool_ == nullptr) return;
  const std::lock_guard lock(pool_->turns_mutex_);
  const auto it = pool_->turns_.find(client_);
  if (it != pool_->turns_.end() && --it->second == 0) pool_->turns_.erase(it);
}

template <class Work>
auto PasswordPool::run(Work work) -> Async<decltype(work())> {
  using Value = decltype(work());
  struct Slot {
    std::atomic<std::size_t>& in_flight;
    ~Slot() { in_flight.fetch_sub(1); }
  } slot{in_flight_};
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    co_return Error::unavailable("Too many passwords are being checked; try again shortly.");
  }
  // co_spawn onto the pool; use_awaitable resumes this coroutine on the
  // executor it was running on, the shard's. (Optional: co_spawn wants a
  // default-constructible result.)
  // Named, not temporaries in the co_await: g++ 12 destroys those twice.
  auto job = call(std::move(work));
  auto spawned = asio::co_spawn(io_, std::move(job), asio::use_awaitable);
  std::optional<Value> value = co_await std::move(spawned);
  co_return Result<Value>{std::move(*value)};
}

Async<std::string> PasswordPool::hash(std::string password) {
  auto work = [password = std::move(password)] { return hash_password(password); };
  auto hashed = co_await run(std::move(work));
  if (!hashed.ok()) co_return std::move(hashed).error();
  co_return std::move(*hashed);
}

Async<bool> PasswordPool::verify(std::string encoded_hash, std::string password) {
  auto work = [hash = std::move(encoded_hash), password = std::move(password)] {
    return verify_password(hash, password);
  };
  co_return co_await run(std::move(work));
}

}  // namespace betsdb::service
