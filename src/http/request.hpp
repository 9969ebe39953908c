// The HTTP request and response as the rest of the program sees them: plain
// values, no Beast types, so api/ handlers stay independent of the transport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/body_stream.hpp"

namespace betsdb::http {

enum class Method { get, post, put, patch, del, head, options, other };

std::string_view method_name(Method m);

// Who sent a request, as the route's guard established it (api/auth.hpp).
// The owner holds the configured admin token; operators sign in and act
// within their role; users are bettors.
struct Principal {
  enum class Kind { anonymous, owner, operator_account, user };
  enum class Role { none, admin, trader, support };  // an operator's
  Kind kind = Kind::anonymous;
  std::int64_t user_id = 0;      // Kind::user
  std::int64_t operator_id = 0;  // Kind::operator_account
  Role role = Role::none;

  static Principal owner() { return {Kind::owner, 0, 0, Role::none}; }
  static Principal user(std::int64_t id) { return {Kind::user, id, 0, Role::none}; }
  static Principal operator_account(std::int64_t id, Role role) {
    return {Kind::operator_account, 0, id, role};
  }

  bool is_user() const { return kind == Kind::user; }
  bool is_owner() const { return kind == Kind::owner; }
  bool is_operator() const { return kind == Kind::operator_account; }
  bool is_staff() const { return is_owner() || is_operator(); }
  // Everything the admin token may do: the owner or an admin operator.
  bool is_admin() const { return is_owner() || (is_operator() && role == Role::admin); }
  // Create, change, suspend, resume and settle matches; read exposure.
  bool may_trade() const { return is_admin() || (is_operator() && role == Role::trader); }
  // Read any user, their bets, ledger and limits.
  bool may_read_accounts() const { return is_admin() || (is_operator() && role == Role::support); }
  // The audit's name for a staff member: "owner" or "operator:7".
  std::string actor() const {
    return is_owner() ? std::string("owner") : "operator:" + std::to_string(operator_id);
  }
};

std::string_view role_name(Principal::Role role);  // "admin", ...; "user" for none

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
  std::string client_address;  // the TCP peer's IP address, e.g. "127.0.0.1"

  // First header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // Every header with this (lower-case) name, joined by commas in the order
  // received: a list sent on several lines is the same list on one (RFC 9110
  // 5.3), and a proxy may add its own line after the client's.
  std::optional<std::string> joined_header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;
  // Set: the body is written over time by this, until it returns
  // (http/body_stream.hpp); `body` is ignored.
  StreamBody stream;

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
