// One TCP connection to Redis with automatic pipelining; an implementation
// detail of Client, which adds connection setup, reconnects and the public API.
//
// Pipelining: commands are appended to one write buffer and their waiters to a
// FIFO. A flush is posted once per burst, so every command issued in the same
// turn of the event loop (or while a write is in flight) goes out in a single
// write; replies are matched to waiters strictly in order. A batch's commands
// are laid out back-to-back in the buffer, so nothing can interleave with them.
//
// Failure: a read or write error, a protocol error, a reply nobody waits for, or
// a waiter older than the command timeout closes the connection for good, and
// every waiter completes with Errc::service_unavailable. A Connection is never
// reused after close(); the Client makes a new one.
//
// Pushes: a connection subscribed to a channel also receives messages no
// command asked for. A push sink, when set, sees every reply first, in the
// read loop itself (so before any later reply's waiter is resumed), and
// keeps the ones it takes out of the waiters' FIFO.
//
// Completion handlers are always posted to the connection's executor, never run
// inside send() or the read loop, so a resumed caller cannot re-enter us.
//
// Thread-safety: none; use only from the executor's thread (one io_context per
// thread). Lifetime: background operations hold shared_from_this().
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/reply.hpp"
#include "store/redis/resp.hpp"
#include "util/result.hpp"

namespace betsdb::redis::detail {

// Boost 1.81: any_completion_handler's move *assignment* (and any copy of a
// non-const lvalue) recurses without end; only ever move-construct these.
using ReplyHandler = boost::asio::any_completion_handler<void(Result<Reply>)>;
using BatchHandler = boost::asio::any_completion_handler<void(Result<std::vector<Reply>>)>;

// Completes `handler` with `value` from a fresh turn of `executor`'s loop, never
// inline, so a resumed caller can never re-enter the code that completed it.
// (Not boost::asio::append: in Boost 1.81 it copies an any_completion_handler
// token as an lvalue, which recurses without end.)
template <class Handler, class Value>
void post_completion(const boost::asio::any_io_executor& executor, Handler handler, Value value) {
  boost::asio::post(executor, [handler = std::move(handler), value = std::move(value)]() mutable {
    std::move(handler)(std::move(value));
  });
}

class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::any_io_executor executor, std::chrono::milliseconds command_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves and connects, then starts reading replies and watching deadlines.
  // On failure the connection is closed and the error says why.
  boost::asio::awaitable<Status> open(std::string host, std::uint16_t port);

  bool is_open() const noexcept { return opened_ && !closed_; }

  // Returns true for a reply it takes (a pub/sub message); set before open().
  using PushSink = std::function<bool(const Reply&)>;
  void set_push_sink(PushSink sink) { push_sink_ = std::move(sink); }

  // For a connection whose replies must be seen before the loop's turn for
  // them comes (the tracker's: a PONG that waits behind a busy loop's ready
  // requests fences too late to be of use). Set before open(); the read loop
  // then waits for the socket to be readable and reads it dry, so that
  // read_now() can read too without taking bytes out of order.
  void enable_read_now() { read_now_enabled_ = true; }
  // Reads what the socket holds now, without waiting, and hands it over as
  // the read loop does: the push sink first, then the waiters (their
  // handlers still posted). Does nothing unless enabled and open.
  void read_now();
  // Writes the commands sent so far at once, without waiting for the posted
  // flush, unless a write is in flight (they then follow it, as always).
  void flush_now();

  // Precondition: is_open(). `wire` is one encoded command / `count` back-to-back
  // encoded commands; it is copied into the write buffer before returning.
  void send(std::string_view wire, ReplyHandler handler);
  void send_batch(std::string_view wire, std::size_t count, BatchHandler handler);

  // Idempotent. Fails every waiter with service_unavailable(reason) and cancels all
  // background work (which then ends on its own).
  void close(std::string reason);
  // Completes once close() has happened (at once if it already has).
  boost::asio::awaitable<void> wait_closed();

  const std::string& close_reason() const noexcept { return close_reason_; }
  bool timed_out() const noexcept { return timed_out_; }
  std::uint64_t writes() const noexcept { return writes_; }

 private:
  using Clock = std::chrono::steady_clock;

  // Built whole by aggregate initialisation: see the note on ReplyHandler.
  struct Waiter {
    Clock::time_point deadline;
    ReplyHandler on_reply;             // a single command
    BatchHandler on_batch;             // or a batch:
    std::vector<Reply> batch_replies;  //   the replies so far,
    std::size_t batch_size = 0;        //   and how many it needs
  };

  void enqueue(std::string_view wire, Waiter waiter);
  void schedule_flush();
  void start_write();
  void on_written(const boost::system::error_code& ec);
  bool deliver(Reply reply);  // false if no one waits for it
  // The read loop's and read_now()'s work: false once the connection closed.
  bool hand_over(std::size_t size);
  bool read_available();
  void spawn(boost::asio::awaitable<void> task);
  // Both take `self` so the Connection outlives them.
  boost::asio::awaitable<void> read_loop(std::shared_ptr<Connection> self);
  boost::asio::awaitable<void> watch_deadlines(std::shared_ptr<Connection> self);

  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds command_timeout_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer closed_signal_;  // never expires; close() cancels it
  ReplyReader reader_;
  std::vector<char> read_buffer_;
  std::string pending_writes_;  // filled by send() while in_flight_ is on the wire
  std::string in_flight_;       // the buffer being written; swapped, so both keep capacity
  std::deque<Waiter> waiters_;
  PushSink push_sink_;
  std::uint64_t writes_ = 0;
  std::string close_reason_;
  bool opened_ = false;
  bool closed_ = false;
  bool timed_out_ = false;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool read_now_enabled_ = false;
};

}  // namespace betsdb::redis::detail
