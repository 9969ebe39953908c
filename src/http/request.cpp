#include "http/request.hpp"

namespace betsdb::http {

std::string_view method_name(Method m) {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::del:
      return "DELETE";
    case Method::head:
      return "HEAD";
    case Method::options:
      return "OPTIONS";
    case Method::other:
      return "OTHER";
  }
  return "OTHER";
}

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.name == lower_name) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::joined_header(std::string_view lower_name) const {
  std::optional<std::string> joined;
  for (const auto& h : headers) {
    if (h.name != lower_name) continue;
    if (joined) {
      joined->append(",").append(h.value);
    } else {
      joined = h.value;
    }
  }
  return joined;
}

std::string_view role_name(Principal::Role role) {
  switch (role) {
    case Principal::Role::admin:
      return "admin";
    case Principal::Role::trader:
      return "trader";
    case Principal::Role::support:
      return "support";
    case Principal::Role::none:
      break;
  }
  return "user";
}

}  // namespace betsdb::http
