// The return type of every asynchronous service and port function.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "util/result.hpp"

namespace betsdb::service {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

}  // namespace betsdb::service
