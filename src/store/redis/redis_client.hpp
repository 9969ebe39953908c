// Client: the asynchronous Redis client every store/redis component builds on.
//
// One Client per shard (io_context thread) keeps one pipelined connection:
// commands from all the shard's coroutines share it, are written in batches, and
// their replies are matched in order (see connection.hpp). The client connects
// in the background (connect + AUTH + SELECT) and reconnects with back-off
// (50 ms doubling to 1 s) whenever the connection drops.
//
// Results: a Redis *error reply* (WRONGTYPE, NOSCRIPT, ...) is a successful
// Result holding a Reply of type error; the caller decides what it means. A
// Result error is only ever Errc::service_unavailable, for transport trouble:
// not connected (commands fail at once rather than queue while Redis is away),
// connection lost, or no reply within Config::command_timeout (the connection is
// then reset, failing everything in flight, because the reply stream can no
// longer be matched to waiters).
//
// Not supported: pub/sub, MONITOR, and blocking commands (BLPOP, ...) longer
// than the command timeout; they would stall or desynchronise the pipeline.
//
// Thread-safety: none. A Client, and every call on it, belongs to the thread
// running its executor's io_context; awaiting coroutines must run there too.
// Lifetime: create() only; background work holds shared_from_this(), so the
// client lives until stop() has let that work finish.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/batch.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/redis_config.hpp"
#include "store/redis/reply.hpp"
#include "store/redis/resp.hpp"
#include "store/redis/script.hpp"
#include "util/result.hpp"

namespace betsdb::redis {

class Client final : public std::enable_shared_from_this<Client> {
 public:
  // Counters for metrics; they only grow.
  struct Stats {
    std::uint64_t commands_sent = 0;      // handed to a live connection (each of a batch counts)
    std::uint64_t commands_rejected = 0;  // failed at once: not connected, stopped, bad arguments
    std::uint64_t writes = 0;             // socket writes; commands_sent / writes = pipelining
    std::uint64_t transport_errors = 0;   // failed connection attempts + lost connections
    std::uint64_t timeouts = 0;           // connections reset because a reply was late
    std::uint64_t reconnects = 0;         // connections established after the first
  };

  static std::shared_ptr<Client> create(boost::asio::any_io_executor executor, Config config);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting in the background; returns at once. Calls after the first,
  // or after stop(), do nothing.
  void start();
  // Closes the connection. Every pending and later command fails with
  // service_unavailable, and background work ends so io_context::run() can return.
  // A stopped client cannot be started again.
  void stop();
  // True once connected and set up (AUTH, SELECT), until the connection is lost.
  bool connected() const noexcept;
  // Completes when connected, or with service_unavailable once `timeout` passes.
  // It polls, so it is meant for start-up checks and tests, not request paths.
  boost::asio::awaitable<Status> wait_connected(std::chrono::milliseconds timeout);

  // Sends one command: co_await client->command("SET", key, value, "EX", "60").
  // Arguments are encoded (binary-safe) when command() is called, so they need
  // only live until it returns, not until the reply.
  //
  // g++ 12 rejects a braced list inside a co_await expression ("array used as
  // initializer"), so prefer the variadic form over command({...}) there; the
  // initializer_list overload works when called outside the co_await, e.g.
  //   auto reply = client->command({"GET", key});  co_await std::move(reply);
  template <CommandArg... Args>
  boost::asio::awaitable<Result<Reply>> command(const Args&... args) {
    static_assert(sizeof...(Args) > 0, "a Redis command needs at least its name");
    using Argv = std::array<std::string_view, sizeof...(Args)>;
    return send(encode_command(Argv{std::string_view(args)...}), nullptr);
  }
  boost::asio::awaitable<Result<Reply>> command(std::vector<std::string> args);
  boost::asio::awaitable<Result<Reply>> command(std::initializer_list<std::string_view> args);

  // Sends the commands back-to-back with nothing interleaved (e.g. MULTI ... EXEC)
  // and returns one reply per command, in order. An empty batch yields no replies.
  // The Batch form avoids building a vector of vectors (see batch.hpp).
  boost::asio::awaitable<Result<std::vector<Reply>>> batch(Batch commands);
  boost::asio::awaitable<Result<std::vector<Reply>>> batch(
      std::vector<std::vector<std::string>> commands);

  // EVALSHA, falling back to EVAL with the source on a NOSCRIPT error reply (first
  // use, or after SCRIPT FLUSH / a Redis restart). `script` must outlive the await.
  // read_only uses EVALSHA_RO / EVAL_RO (Redis 7): the script may not write, and
  // in exchange it still runs while writes are paused (CLIENT PAUSE WRITE).
  enum class ScriptMode { read_write, read_only };
  boost::asio::awaitable<Result<Reply>> eval(const Script& script, std::vector<std::string> keys,
                                             std::vector<std::string> args,
                                             ScriptMode mode = ScriptMode::read_write);

  Stats stats() const noexcept;
  // Why the last connection attempt failed or the last connection was lost; empty
  // while connected and before the first failure.
  const std::string& last_error() const noexcept { return last_error_; }
  const Config& config() const noexcept { return config_; }
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  Client(boost::asio::any_io_executor executor, Config config);

  // `via` is the connection to use; null means the client's current one, chosen
  // when the returned awaitable is awaited.
  boost::asio::awaitable<Result<Reply>> send(Result<EncodedCommand> command,
                                             std::shared_ptr<detail::Connection> via);
  // `command` is empty if it could not be encoded.
  void initiate_command(detail::ReplyHandler handler, EncodedCommand command,
                        std::shared_ptr<detail::Connection> via);
  void initiate_batch(detail::BatchHandler handler, Batch commands);
  // The connection commands go to now, or null while there is none.
  detail::Connection* ready_connection();
  std::string unavailable_detail() const;

  boost::asio::awaitable<void> run(std::shared_ptr<Client> self);
  boost::asio::awaitable<Status> connect(std::shared_ptr<detail::Connection> connection);
  boost::asio::awaitable<Status> handshake(std::shared_ptr<detail::Connection> connection);
  static Status expect_ok(detail::Connection& connection, std::string_view what,
                          Result<Reply> reply);

  boost::asio::any_io_executor executor_;
  Config config_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<detail::Connection> connection_;  // set only while ready for commands
  std::shared_ptr<detail::Connection> connecting_;  // the one being set up, so stop() can abort it
  Stats stats_;
  std::string last_error_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace betsdb::redis
