// Running command-line work on a private event loop: the async store layer
// needs a loop, and a tool may block its own thread waiting for it.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <functional>
#include <optional>

namespace betsdb::app {

// Runs task(executor) to completion, including everything it left running
// (so it must close its pools and clients before it returns). Rethrows what
// the task threw.
template <class T>
T run_on_private_loop(
    const std::function<boost::asio::awaitable<T>(boost::asio::any_io_executor)>& task) {
  boost::asio::io_context ioc;
  std::optional<T> out;
  std::exception_ptr thrown;
  boost::asio::co_spawn(ioc, task(ioc.get_executor()), [&](std::exception_ptr e, T value) {
    thrown = e;
    if (!e) out = std::move(value);
  });
  ioc.run();
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*out);
}

}  // namespace betsdb::app
