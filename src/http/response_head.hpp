// The status line and header block of an answer, written straight into a
// string: the bytes Beast's serializer writes for the same response (a test
// holds them equal; unlike Beast, no Content-Length on 1xx, 204 and 304, as
// RFC 9110 section 8.6 asks), without building a Beast message and walking its
// buffer views on every answer, which cost cached reads about a tenth of
// the server's own CPU.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace betsdb::http {

struct ResponseHead {
  int status = 200;
  std::string_view content_type;  // empty: no Content-Type
  std::string_view request_id;
  std::span<const Header> headers;
  // The body's length, as Content-Length; nullopt for a body that ends with
  // the connection (a stream). Never sent with 1xx, 204 or 304.
  std::optional<std::size_t> content_length;
  bool keep_alive = true;  // false: "Connection: close"
};

// True for the statuses whose answers have no body (1xx, 204, 304).
bool status_forbids_body(int status);

// Appends the head (status line, fields, blank line) to `out`. Headers are
// set as Beast's set() does: a later header replaces an earlier one of the
// same name, case-insensitively, and moves to its place.
void append_response_head(std::string& out, const ResponseHead& head);

}  // namespace betsdb::http
