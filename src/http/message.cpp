#include "http/message.hpp"

#include <cctype>
#include <random>

namespace betsdb::http {

namespace bhttp = boost::beast::http;

namespace {

Method to_method(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::get;
    case bhttp::verb::post:
      return Method::post;
    case bhttp::verb::put:
      return Method::put;
    case bhttp::verb::patch:
      return Method::patch;
    case bhttp::verb::delete_:
      return Method::del;
    case bhttp::verb::head:
      return Method::head;
    case bhttp::verb::options:
      return Method::options;
    default:
      return Method::other;
  }
}

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string make_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  auto bits = rng();
  for (auto& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

Request to_request(const bhttp::request<bhttp::string_body>& msg) {
  Request req;
  req.method = to_method(msg.method());
  std::string_view target = msg.target();
  auto q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  req.headers.reserve(8);
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.push_back({std::move(name), std::string(field.value())});
  }
  auto rid = req.header("x-request-id");
  if (rid && !rid->empty() && rid->size() <= kMaxRequestIdLength && printable_ascii(*rid)) {
    req.request_id = std::string(*rid);
  } else {
    req.request_id = make_request_id();
  }
  return req;
}

}  // namespace betsdb::http
