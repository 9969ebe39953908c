#include "store/redis/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>

namespace betsdb::redis::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Large enough to take many pipelined replies per read, small enough that a
// connection per shard costs nothing worth counting.
constexpr std::size_t kReadChunkBytes = 16 * 1024;
// A write buffer that once carried an unusually large burst should not pin that
// memory for the life of the connection.
constexpr std::size_t kMaxRetainedWriteBytes = 1024 * 1024;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string lost_because(const boost::system::error_code& ec) {
  return ec == asio::error::eof ? std::string("Redis closed the connection")
                                : "connection to Redis lost: " + ec.message();
}

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, std::chrono::milliseconds command_timeout)
    : executor_(executor),
      command_timeout_(command_timeout),
      resolver_(executor),
      socket_(executor),
      deadline_timer_(executor),
      closed_signal_(executor, Clock::time_point::max()),
      read_buffer_(kReadChunkBytes) {}

asio::awaitable<Status> Connection::open(std::string host, std::uint16_t port) {
  auto self = shared_from_this();
  const std::string where = host + ":" + std::to_string(port);

  auto [resolve_ec, endpoints] =
      co_await resolver_.async_resolve(host, std::to_string(port), kAwait);
  if (!closed_ && resolve_ec)
    close("cannot resolve Redis host " + where + ": " + resolve_ec.message());
  if (closed_) co_return Error::unavailable(close_reason_);

  auto [connect_ec, endpoint] = co_await asio::async_connect(socket_, endpoints, kAwait);
  if (!closed_ && connect_ec)
    close("cannot connect to Redis at " + where + ": " + connect_ec.message());
  if (closed_) co_return Error::unavailable(close_reason_);

  // Commands are small and latency-bound; Nagle's algorithm would hold them back.
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  // read_now() and the writes below must never block the loop; without a
  // non-blocking socket the connection works as every other one.
  if (read_now_enabled_) {
    boost::system::error_code failed;
    socket_.non_blocking(true, failed);
    if (failed) read_now_enabled_ = false;
  }

  opened_ = true;
  spawn(read_loop(self));
  spawn(watch_deadlines(self));
  co_return Status{};
}

void Connection::spawn(asio::awaitable<void> task) {
  asio::co_spawn(executor_, std::move(task), [self = shared_from_this()](std::exception_ptr e) {
    // Only an allocation failure can throw in there; never leave waiters hanging.
    if (e) self->close("internal error in the Redis connection");
  });
}

void Connection::send(std::string_view wire, ReplyHandler handler) {
  if (!is_open()) {
    post_completion(executor_, std::move(handler),
                    Result<Reply>(Error::unavailable("not connected to Redis")));
    return;
  }
  enqueue(wire, Waiter{Clock::now() + command_timeout_, std::move(handler), {}, {}, 0});
}

void Connection::send_batch(std::string_view wire, std::size_t count, BatchHandler handler) {
  if (!is_open()) {
    post_completion(executor_, std::move(handler),
                    Result<std::vector<Reply>>(Error::unavailable("not connected to Redis")));
    return;
  }
  std::vector<Reply> replies;
  replies.reserve(count);
  enqueue(
      wire,
      Waiter{Clock::now() + command_timeout_, {}, std::move(handler), std::move(replies), count});
}

void Connection::enqueue(std::string_view wire, Waiter waiter) {
  pending_writes_.append(wire);
  waiters_.push_back(std::move(waiter));
  schedule_flush();
}

// Posting the flush (instead of writing at once) lets every command issued in
// this turn of the event loop share one write.
void Connection::schedule_flush() {
  if (writing_ || flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    if (!self->closed_ && !self->writing_) self->start_write();
  });
}

void Connection::start_write() {
  if (pending_writes_.empty()) return;
  if (read_now_enabled_) {
    // Written here rather than by a handler: writing_ then means the socket
    // is full, not that a completion waits behind a busy loop's requests
    // (flush_now() would find every PING queued behind it).
    boost::system::error_code ec;
    const std::size_t written = socket_.write_some(asio::buffer(pending_writes_), ec);
    if (ec && !would_block(ec)) {
      close("write to Redis failed: " + ec.message());
      return;
    }
    ++writes_;
    pending_writes_.erase(0, written);
    if (pending_writes_.empty()) return;
  }
  std::swap(pending_writes_, in_flight_);
  writing_ = true;
  ++writes_;
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->on_written(ec);
                    });
}

void Connection::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  in_flight_.clear();
  if (in_flight_.capacity() > kMaxRetainedWriteBytes) std::string().swap(in_flight_);
  if (closed_) return;
  if (ec) {
    close("write to Redis failed: " + ec.message());
    return;
  }
  start_write();  // whatever piled up during this write goes out together
}

asio::awaitable<void> Connection::read_loop([[maybe_unused]] std::shared_ptr<Connection> self) {
  while (!closed_) {
    if (read_now_enabled_) {
      // Readable, not read: bytes are taken only by read_available(), here
      // or in read_now(), one after the other on this thread, so in order.
      auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, kAwait);
      if (closed_) co_return;
      if (ec) {
        close(lost_because(ec));
        co_return;
      }
      if (!read_available()) co_return;
      continue;
    }
    auto [ec, size] = co_await socket_.async_read_some(asio::buffer(read_buffer_), kAwait);
    if (closed_) co_return;
    if (ec) {
      close(lost_because(ec));
      co_return;
    }
    if (!hand_over(size)) co_return;
  }
}

bool Connection::hand_over(std::size_t size) {
  if (auto fed = reader_.feed(read_buffer_.data(), size); !fed.ok()) {
    close(fed.error().detail);
    return false;
  }
  for (;;) {
    auto next = reader_.next();
    if (!next.ok()) {
      close(next.error().detail);
      return false;
    }
    if (!next->has_value()) return true;
    if (push_sink_ && push_sink_(**next)) continue;
    if (!deliver(std::move(**next))) {
      close("Redis sent a reply no command was waiting for");
      return false;
    }
  }
}

// Until a read comes back short: what arrives after it raises a new
// readiness event, which the read loop's wait then sees.
bool Connection::read_available() {
  while (!closed_) {
    boost::system::error_code ec;
    const std::size_t size = socket_.read_some(asio::buffer(read_buffer_), ec);
    if (would_block(ec)) return true;
    if (ec) {
      close(lost_because(ec));
      return false;
    }
    if (!hand_over(size)) return false;
    if (size < read_buffer_.size()) return true;
  }
  return false;
}

void Connection::read_now() {
  if (read_now_enabled_ && is_open()) read_available();
}

void Connection::flush_now() {
  if (read_now_enabled_ && is_open() && !writing_) start_write();
}

bool Connection::deliver(Reply reply) {
  if (waiters_.empty()) return false;
  Waiter& front = waiters_.front();
  if (front.on_reply) {
    ReplyHandler handler = std::move(front.on_reply);
    waiters_.pop_front();
    post_completion(executor_, std::move(handler), Result<Reply>(std::move(reply)));
    return true;
  }
  front.batch_replies.push_back(std::move(reply));
  if (front.batch_replies.size() < front.batch_size) return true;
  BatchHandler handler = std::move(front.on_batch);
  std::vector<Reply> replies = std::move(front.batch_replies);
  waiters_.pop_front();
  post_completion(executor_, std::move(handler), Result<std::vector<Reply>>(std::move(replies)));
  return true;
}

// One timer per connection instead of one per command: replies come back in
// order, so only the oldest waiter can be the first to time out.
asio::awaitable<void> Connection::watch_deadlines(
    [[maybe_unused]] std::shared_ptr<Connection> self) {
  while (!closed_) {
    deadline_timer_.expires_at(waiters_.empty() ? Clock::now() + command_timeout_
                                                : waiters_.front().deadline);
    co_await deadline_timer_.async_wait(kAwait);
    if (closed_) co_return;
    if (!waiters_.empty() && waiters_.front().deadline <= Clock::now()) {
      // Its reply may still come, but the stream is now out of step with the
      // waiters: only a fresh connection is safe.
      timed_out_ = true;
      close("Redis did not answer within " + std::to_string(command_timeout_.count()) + " ms");
      co_return;
    }
  }
}

void Connection::close(std::string reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = std::move(reason);
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  deadline_timer_.cancel();
  closed_signal_.cancel();
  pending_writes_.clear();

  std::deque<Waiter> waiters = std::move(waiters_);
  waiters_.clear();
  for (Waiter& waiter : waiters) {
    Error error = Error::unavailable(close_reason_);
    if (waiter.on_reply) {
      post_completion(executor_, std::move(waiter.on_reply), Result<Reply>(std::move(error)));
    } else {
      post_completion(executor_, std::move(waiter.on_batch),
                      Result<std::vector<Reply>>(std::move(error)));
    }
  }
}

asio::awaitable<void> Connection::wait_closed() {
  auto self = shared_from_this();
  while (!closed_) co_await closed_signal_.async_wait(kAwait);
}

}  // namespace betsdb::redis::detail
