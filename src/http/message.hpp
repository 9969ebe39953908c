// Conversion between Beast's HTTP messages and our plain Request/Response.
// Shared by the server and the fuzz target so both see the same Request.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/request.hpp"

namespace betsdb::http {

// Method, path/query split, lower-cased headers and the request id (the
// client's X-Request-Id when it is short printable ASCII, else a new one).
// The body is not copied: the server moves it in once it is read.
Request to_request(const boost::beast::http::request<boost::beast::http::string_body>& message);

// A fresh request id: 16 hex digits.
std::string make_request_id();

// X-Request-Id values longer than this are replaced by our own.
inline constexpr std::size_t kMaxRequestIdLength = 128;

}  // namespace betsdb::http
