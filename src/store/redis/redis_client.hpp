// Client: one Redis server (commands.hpp says what callers may expect). A
// cluster's client (cluster_client.hpp) keeps one of these per node.
//
// One Client per shard (io_context thread) keeps one pipelined connection:
// commands from all the shard's coroutines share it, are written in batches, and
// their replies are matched in order (see connection.hpp). The client connects
// in the background (connect + AUTH + SELECT, then INFO server for the
// server's run_id) and reconnects with back-off
// (50 ms doubling to 1 s) whenever the connection drops.
//
// With Config::tracked_prefixes, the client also keeps a tracking connection
// (invalidation_tracker.hpp), started and stopped with it.
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
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/batch.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/invalidation_tracker.hpp"
#include "store/redis/redis_config.hpp"
#include "store/redis/reply.hpp"
#include "store/redis/resp.hpp"
#include "store/redis/script.hpp"
#include "util/result.hpp"

namespace betsdb::redis {

class Client final : public Commands, public std::enable_shared_from_this<Client> {
 public:
  static std::shared_ptr<Client> create(boost::asio::any_io_executor executor, Config config);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start() override;
  void stop() override;
  bool connected() const noexcept override;
  bool reachable(std::string_view) const noexcept override { return connected(); }
  boost::asio::awaitable<Status> wait_connected(std::chrono::milliseconds timeout) override;
  Stats stats() const override;
  std::string last_error() const override { return last_error_; }
  const boost::asio::any_io_executor& executor() const noexcept override { return executor_; }
  bool cluster() const noexcept override { return false; }
  InvalidationTracker* tracker() noexcept override { return tracker_.get(); }
  bool writers_wait() const noexcept override { return config_.writers_wait; }

  // Sends the commands back-to-back with nothing interleaved (e.g. MULTI ... EXEC,
  // or a cluster's ASKING and the command it concerns) and returns one reply per
  // command, in order. An empty batch yields no replies.
  boost::asio::awaitable<Result<std::vector<Reply>>> batch(Batch commands);
  boost::asio::awaitable<Result<std::vector<Reply>>> batch(
      std::vector<std::vector<std::string>> commands);

  // Called (on the client's thread) each time an established connection is
  // lost; a cluster reloads its slot map then.
  void on_connection_lost(std::function<void()> listener) {
    on_connection_lost_ = std::move(listener);
  }

  // The process the current connection reaches (12 hex digits of its
  // run_id); empty while not connected.
  const std::string& server_id() const noexcept { return server_id_; }
  // When the current connection was made (Served::origin_since).
  std::chrono::steady_clock::time_point connected_at() const noexcept { return connected_at_; }
  const Config& config() const noexcept { return config_; }

  // For a cluster's routing: the command as encoded already (no route: this
  // client is one server).
  boost::asio::awaitable<Result<Reply>> send_encoded(EncodedCommand command) {
    return send_on(std::move(command), nullptr);
  }

 protected:
  boost::asio::awaitable<Result<Reply>> send(Result<EncodedCommand> command, Route route) override;
  boost::asio::awaitable<Result<Served>> send_served(Result<EncodedCommand> command,
                                                     Route route) override;

 private:
  Client(boost::asio::any_io_executor executor, Config config);

  // `via` is the connection to use; null means the client's current one, chosen
  // when the returned awaitable is awaited.
  boost::asio::awaitable<Result<Reply>> send_on(Result<EncodedCommand> command,
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
  boost::asio::awaitable<void> learn_server_id(std::shared_ptr<Client> self,
                                               std::shared_ptr<detail::Connection> connection);
  static Status expect_ok(detail::Connection& connection, std::string_view what,
                          Result<Reply> reply);

  boost::asio::any_io_executor executor_;
  Config config_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<detail::Connection> connection_;  // set only while ready for commands
  std::shared_ptr<detail::Connection> connecting_;  // the one being set up, so stop() can abort it
  Stats stats_;
  std::string last_error_;
  std::string server_id_;                                 // of connection_, once known
  std::chrono::steady_clock::time_point connected_at_{};  // of connection_
  std::function<void()> on_connection_lost_;
  std::shared_ptr<InvalidationTracker> tracker_;  // with config_.tracked_prefixes only
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace betsdb::redis
