#include "store/redis/redis_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

// Reconnect back-off: quick enough that a Redis restart costs well under a
// second of 503s, slow enough that an outage is not a connect storm (one
// attempt per second per shard at most).
constexpr std::chrono::milliseconds kFirstRetryDelay{50};
constexpr std::chrono::milliseconds kMaxRetryDelay{1000};
// wait_connected() polling step; only start-up and tests use it.
constexpr std::chrono::milliseconds kConnectedPollInterval{10};

constexpr std::string_view kStoppedDetail = "Redis client is stopped";

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

}  // namespace

std::shared_ptr<Client> Client::create(asio::any_io_executor executor, Config config) {
  return std::shared_ptr<Client>(new Client(std::move(executor), std::move(config)));
}

Client::Client(asio::any_io_executor executor, Config config)
    : executor_(std::move(executor)), config_(std::move(config)), retry_timer_(executor_) {
  if (!config_.tracked_prefixes.empty()) {
    tracker_ = InvalidationTracker::create(executor_, config_, config_.tracked_prefixes);
  }
}

void Client::start() {
  if (started_ || stopped_) return;
  started_ = true;
  if (tracker_) tracker_->start();
  asio::co_spawn(executor_, run(shared_from_this()),
                 [self = shared_from_this()](std::exception_ptr e) {
                   // Only an allocation failure can throw in there; fail loudly rather than hang.
                   if (e) {
                     self->last_error_ = "internal error in the Redis client";
                     self->stop();
                   }
                 });
}

void Client::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (tracker_) tracker_->stop();
  const std::string reason(kStoppedDetail);
  if (connection_) connection_->close(reason);
  if (connecting_) connecting_->close(reason);
  retry_timer_.cancel();
}

bool Client::connected() const noexcept {
  return connection_ && connection_->is_open();
}

detail::Connection* Client::ready_connection() {
  return connected() && !stopped_ ? connection_.get() : nullptr;
}

std::string Client::unavailable_detail() const {
  if (stopped_) return std::string(kStoppedDetail);
  if (!started_) return "Redis client is not started";
  // last_error_ names the server already, e.g. "cannot connect to Redis at ...".
  if (!last_error_.empty()) return "not connected to Redis: " + last_error_;
  return "not connected to Redis at " + config_.host + ":" + std::to_string(config_.port);
}

Client::Stats Client::stats() const {
  Stats stats = stats_;
  if (connection_) stats.writes += connection_->writes();
  if (tracker_) tracker_->report(stats);
  return stats;
}

asio::awaitable<Status> Client::wait_connected(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer poll(executor_);
  while (!connected()) {
    if (stopped_) co_return Error::unavailable(std::string(kStoppedDetail));
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return Error::unavailable(unavailable_detail());
    poll.expires_after(
        std::min<std::chrono::steady_clock::duration>(kConnectedPollInterval, deadline - now));
    co_await poll.async_wait(kAwait);
  }
  co_return Status{};
}

// --- Commands -------------------------------------------------------------

asio::awaitable<Result<Reply>> Client::send(Result<EncodedCommand> command, Route /*route*/) {
  return send_on(std::move(command), nullptr);
}

asio::awaitable<Result<Served>> Client::send_served(Result<EncodedCommand> command,
                                                    Route /*route*/) {
  // The connection is chosen when send_on is awaited, right after this read,
  // with no suspension in between: the id is that of the server it reaches.
  std::string origin = server_id_;
  const auto since = connected_at_;
  auto reply = co_await send_on(std::move(command), nullptr);
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Served{std::move(reply).value(), std::move(origin), since};
}

asio::awaitable<Result<Reply>> Client::send_on(Result<EncodedCommand> command,
                                               std::shared_ptr<detail::Connection> via) {
  // Only an empty argument list fails to encode, so an empty EncodedCommand says
  // all; passing it rather than the Result also keeps g++ 12 -O2 from a false
  // -Wmaybe-uninitialized on the variant inside the coroutine machinery.
  EncodedCommand wire = command.ok() ? std::move(command).value() : EncodedCommand();
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<Reply>)>(
      [self = shared_from_this()](auto handler, EncodedCommand wire,
                                  std::shared_ptr<detail::Connection> via) {
        self->initiate_command(detail::ReplyHandler(std::move(handler)), std::move(wire),
                               std::move(via));
      },
      asio::use_awaitable, std::move(wire), std::move(via));
}

void Client::initiate_command(detail::ReplyHandler handler, EncodedCommand command,
                              std::shared_ptr<detail::Connection> via) {
  detail::Connection* connection = via ? via.get() : ready_connection();
  if (command.empty() || connection == nullptr || !connection->is_open()) {
    ++stats_.commands_rejected;
    Error error = command.empty() ? Error::internal("Redis command has no arguments")
                  : via           ? Error::unavailable(via->close_reason())
                                  : Error::unavailable(unavailable_detail());
    detail::post_completion(executor_, std::move(handler), Result<Reply>(std::move(error)));
    return;
  }
  ++stats_.commands_sent;
  connection->send(command.view(), std::move(handler));
}

asio::awaitable<Result<std::vector<Reply>>> Client::batch(
    std::vector<std::vector<std::string>> commands) {
  Batch encoded;
  for (const auto& command : commands) encoded.add(command);
  return batch(std::move(encoded));
}

asio::awaitable<Result<std::vector<Reply>>> Client::batch(Batch commands) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<std::vector<Reply>>)>(
      [self = shared_from_this()](auto handler, Batch commands) {
        self->initiate_batch(detail::BatchHandler(std::move(handler)), std::move(commands));
      },
      asio::use_awaitable, std::move(commands));
}

void Client::initiate_batch(detail::BatchHandler handler, Batch commands) {
  using Replies = Result<std::vector<Reply>>;
  detail::Connection* connection = ready_connection();
  if (!commands.status().ok() || connection == nullptr) {
    stats_.commands_rejected += commands.size();
    Error error = !commands.status().ok() ? commands.status().error()
                                          : Error::unavailable(unavailable_detail());
    detail::post_completion(executor_, std::move(handler), Replies(std::move(error)));
    return;
  }
  if (commands.empty()) {
    detail::post_completion(executor_, std::move(handler), Replies(std::vector<Reply>{}));
    return;
  }
  stats_.commands_sent += commands.size();
  connection->send_batch(commands.wire(), commands.size(), std::move(handler));
}

// --- Connection life cycle ---------------------------------------------------

// Which server process the connection reaches (commands.hpp, "Origin"),
// asked as its first command but not waited for: until the answer, replies
// carry no origin (the cache then neither serves nor stores entries).
asio::awaitable<void> Client::learn_server_id(std::shared_ptr<Client> self,
                                              std::shared_ptr<detail::Connection> connection) {
  const std::array<std::string_view, 2> info{"INFO", "server"};
  Result<Reply> reply = co_await send_on(encode_command(info), connection);
  if (!reply.ok() || !reply->is_string() || connection_ != connection) co_return;
  self->server_id_ = origin_from_info(reply->as_string());
}

asio::awaitable<void> Client::run(std::shared_ptr<Client> self) {
  auto retry_delay = kFirstRetryDelay;
  bool ever_connected = false;
  while (!stopped_) {
    auto connection = std::make_shared<detail::Connection>(executor_, config_.command_timeout);
    connecting_ = connection;
    Status setup = co_await connect(connection);
    connecting_.reset();
    if (stopped_) {
      connection->close(std::string(kStoppedDetail));
      break;
    }

    if (setup.ok()) {
      if (ever_connected) ++stats_.reconnects;
      ever_connected = true;
      retry_delay = kFirstRetryDelay;
      last_error_.clear();
      connection_ = connection;
      connected_at_ = std::chrono::steady_clock::now();
      asio::co_spawn(executor_, learn_server_id(self, connection), asio::detached);
      co_await connection->wait_closed();
      connection_.reset();
      server_id_.clear();
      stats_.writes += connection->writes();
      if (connection->timed_out()) ++stats_.timeouts;
      if (stopped_) break;
      last_error_ = connection->close_reason();
      if (on_connection_lost_) on_connection_lost_();
    } else {
      last_error_ = setup.error().detail;
    }
    ++stats_.transport_errors;

    retry_timer_.expires_after(retry_delay);
    co_await retry_timer_.async_wait(kAwait);
    retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
  }
}

// The whole set-up shares one deadline: a server that accepts but never answers
// AUTH is as unusable as one that never accepts.
asio::awaitable<Status> Client::connect(std::shared_ptr<detail::Connection> connection) {
  asio::steady_timer deadline(executor_, config_.connect_timeout);
  deadline.async_wait([weak = std::weak_ptr<detail::Connection>(connection),
                       reason = "connecting to Redis at " + config_.host + ":" +
                                std::to_string(config_.port) + " timed out after " +
                                std::to_string(config_.connect_timeout.count()) +
                                " ms"](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: set-up finished in time
    if (auto c = weak.lock()) c->close(reason);
  });
  Status status = co_await connection->open(config_.host, config_.port);
  if (status.ok()) status = co_await handshake(connection);
  deadline.cancel();
  co_return status;
}

// g++ 12 with -O2 -fsanitize=address flags this coroutine's frame deallocation
// (Asio's recycling allocator, aligned_alloc paired with free) as a mismatched
// new/delete. It is a false positive in Boost's code, so silence it just here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<Status> Client::handshake(std::shared_ptr<detail::Connection> connection) {
  if (!config_.password.empty()) {
    std::vector<std::string_view> auth;
    auth.push_back("AUTH");
    if (!config_.username.empty()) auth.push_back(config_.username);
    auth.push_back(config_.password);
    Result<Reply> reply = co_await send_on(encode_command(auth), connection);
    BETSDB_CO_TRY_STATUS(expect_ok(*connection, "AUTH", std::move(reply)));
  }
  if (config_.db != 0) {
    const std::string db = std::to_string(config_.db);
    const std::array<std::string_view, 2> select{"SELECT", db};
    Result<Reply> reply = co_await send_on(encode_command(select), connection);
    BETSDB_CO_TRY_STATUS(expect_ok(*connection, "SELECT", std::move(reply)));
  }
  co_return Status{};
}
#pragma GCC diagnostic pop

// A set-up command answered with an error reply (bad password, no such db) makes
// the connection useless: close it with the server's own words as the reason.
Status Client::expect_ok(detail::Connection& connection, std::string_view what,
                         Result<Reply> reply) {
  if (!reply.ok()) return std::move(reply).error();
  if (!reply->is_error()) return {};
  connection.close("Redis refused " + std::string(what) + ": " + reply->as_string());
  return Error::unavailable(connection.close_reason());
}

}  // namespace betsdb::redis
