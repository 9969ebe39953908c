// The HTTP request and response as the rest of the program sees them: plain
// values, no Beast types, so api/ handlers stay independent of the transport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace betsdb::http {

enum class Method { get, post, put, patch, del, head, options, other };

std::string_view method_name(Method m);

// Who is calling, established by a route's guard before the body is read.
struct Principal {
  enum class Kind { anonymous, admin, user };
  Kind kind = Kind::anonymous;
  std::int64_t user_id = 0;

  bool is_admin() const { return kind == Kind::admin; }
  bool is_user() const { return kind == Kind::user; }
};

struct Header {
  std::string name;  // lower-case
  std::string value;
};

struct Request {
  Method method = Method::other;
  std::string path;   // percent-decoded path, without the query
  std::string query;  // raw query string after '?', may be empty
  std::vector<Header> headers;
  std::string body;
  std::vector<std::int64_t> path_ids;  // the {id} segments of the matched route, in order
  std::string_view route;              // the matched route template, e.g. "/v1/users/{id}"
  Principal principal;
  std::string request_id;

  // First header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;

  static Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response no_content() {
    Response r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
};

}  // namespace betsdb::http
