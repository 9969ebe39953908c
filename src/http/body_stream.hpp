// A response body written over time, for Server-Sent Events: the handler
// returns a Response whose `stream` is set, the server writes the status and
// headers (no length: the body ends when the connection closes), then hands
// the connection to `stream` until it returns. By then the request and the
// rest of the response are gone (a stream may last hours; they would cost
// every client), so `stream` must own what it uses.
//
// Thread-safety: the io_context's thread of the connection only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

namespace betsdb::http {

class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Writes all of `buffers`. False once the client is gone, a write took
  // longer than the server's write deadline, abort() was called, or the
  // server is stopping: the body should then return.
  virtual boost::asio::awaitable<bool> write(
      std::span<const boost::asio::const_buffer> buffers) = 0;
  // Ends the connection now, failing a write in progress (a consumer that
  // stopped reading must not hold its writer forever).
  // Writes what the socket takes at once, without waiting (one non-blocking
  // send), and returns the bytes written: 0 when it takes nothing or the
  // client is gone (a later write() says which). Only while no write() is
  // in progress. For fan-out, where a coroutine resumption per client per
  // event would cost more than the send itself.
  virtual std::size_t write_now(std::string_view bytes) = 0;
  virtual void abort() = 0;
  // Runs `callback` (on this thread) if the client closes its side or sends
  // anything, so a body waiting for something to write learns of it before
  // its next write. Not after the body has returned.
  virtual void on_client_gone(std::function<void()> callback) = 0;
};

using StreamBody = std::function<boost::asio::awaitable<void>(BodyStream&)>;

}  // namespace betsdb::http
