// A connection's deadline: when it passes, the socket is closed, which ends
// any pending read or write on it with an error.
//
// Beast's tcp_stream re-arms a timer around every read and write (a timer
// queue update, often a timerfd_settime, an executor copy per operation).
// Here the deadline is a time: moving it later costs one clock read, and the
// one timer only wakes when the earliest deadline it was set for comes; it
// then closes the socket, or waits on until the deadline moved to. Only a
// deadline moved earlier than the timer's re-arms it (the request deadline
// after the longer idle one: once per timer period, not once per request).
//
// Not thread-safe: one per connection, on the connection's loop.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace betsdb::http {

class Deadline final {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(boost::asio::ip::tcp::socket& socket);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Closes the socket `d` from now, unless moved again before then.
  void expires_after(Clock::duration d);
  // No deadline (a stream waiting for events, a handler at work).
  void expires_never();
  // True once the deadline closed the socket.
  bool expired() const;

 private:
  // Shared with the timer's handler, which may run after the connection is
  // gone (a destroyed timer still calls its handler, with operation_aborted).
  struct State {
    explicit State(boost::asio::ip::tcp::socket& s) : socket(&s), timer(s.get_executor()) {}
    boost::asio::ip::tcp::socket* socket;  // null once the Deadline is gone
    boost::asio::steady_timer timer;
    Clock::time_point at = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // the pending wait's end
    bool waiting = false;
    bool expired = false;
    unsigned arming = 0;  // tells a cancelled wait's handler from the current one
  };

  static void arm(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace betsdb::http
