// The head written by hand must be the bytes Beast's serializer writes for
// the same answer, which is what the server sent before (and what clients,
// HAProxy and the conformance proxy were tested against), but for the one
// place where Beast breaks RFC 9110: a length on answers that have no body.
#include "http/response_head.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <vector>

namespace betsdb::http {
namespace {

namespace bhttp = boost::beast::http;

struct HeadCase {
  int status;
  std::string content_type;
  std::vector<Header> headers;
  std::string body;
  bool keep_alive;
};

// What the server used to build: a string_body response, prepared.
std::string beast_head(const HeadCase& a, const std::string& request_id) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(a.status), 11};
  if (!a.content_type.empty()) out.set(bhttp::field::content_type, a.content_type);
  out.set("X-Request-Id", request_id);
  for (const auto& h : a.headers) out.set(h.name, h.value);
  out.body() = a.body;
  out.keep_alive(a.keep_alive);
  out.prepare_payload();
  bhttp::response_serializer<bhttp::string_body> serializer{out};
  std::string head;
  boost::system::error_code ec;
  serializer.split(true);
  while (!serializer.is_header_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      head += boost::beast::buffers_to_string(buffers);
      serializer.consume(boost::asio::buffer_size(buffers));
    });
    EXPECT_FALSE(ec);
  }
  return head;
}

std::string our_head(const HeadCase& a, const std::string& request_id) {
  std::string out = "kept: ";
  append_response_head(out, ResponseHead{a.status, a.content_type, request_id, a.headers,
                                         a.body.size(), a.keep_alive});
  EXPECT_TRUE(out.starts_with("kept: ")) << "append_response_head must append, not replace";
  return out.substr(6);
}

TEST(ResponseHeadTest, IsTheHeadBeastWritesForTheSameAnswer) {
  const std::vector<HeadCase> answers = {
      {200, "application/json", {}, R"({"items":[]})", true},
      {201, "application/json", {{"Location", "/v1/bets/7"}}, "{}", true},
      {204, "", {}, "", true},
      {304, "", {{"ETag", "\"g7\""}}, "", true},
      {404, "application/problem+json", {}, R"({"status":404})", false},
      {405, "application/problem+json", {{"Allow", "GET, POST"}}, "{}", true},
      {429, "application/problem+json", {{"Retry-After", "3"}}, "{}", true},
      {431, "application/problem+json", {}, "{}", false},
      {503,
       "application/problem+json",
       {{"Retry-After", "1"}, {"Cache-Control", "no-store"}},
       "{}",
       false},
      // A later header of the same name, in another case, replaces the first.
      {200, "text/plain", {{"X-Thing", "a"}, {"Other", "b"}, {"x-thing", "c"}}, "body", true},
      // A header that overrides the Content-Type moves to its place.
      {200, "application/json", {{"content-type", "text/html"}}, "<p>", true},
      {599, "", {}, "", true},  // no reason Beast knows
      {200, "application/json", {}, std::string(100000, 'x'), true},
  };
  for (const auto& a : answers) {
    std::string expected = beast_head(a, "req-1");
    if (status_forbids_body(a.status)) {
      // Beast 1.81 sends "Content-Length: 0" here, which RFC 9110 (8.6)
      // forbids for 1xx and 204 and which misstates a 304's representation.
      const std::string zero = "Content-Length: 0\r\n";
      ASSERT_NE(expected.find(zero), std::string::npos) << expected;
      expected.erase(expected.find(zero), zero.size());
    }
    EXPECT_EQ(our_head(a, "req-1"), expected) << "status " << a.status;
  }
}

TEST(ResponseHeadTest, AStreamsHeadHasNoLengthAndClosesTheConnection) {
  const std::vector<Header> headers = {{"Cache-Control", "no-store"}};
  std::string out;
  append_response_head(out,
                       ResponseHead{200, "text/event-stream", "r9", headers, std::nullopt, false});

  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
  head.set(bhttp::field::content_type, "text/event-stream");
  head.set("X-Request-Id", "r9");
  head.set("Cache-Control", "no-store");
  head.keep_alive(false);
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  std::string expected;
  boost::system::error_code ec;
  while (!serializer.is_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      expected += boost::beast::buffers_to_string(buffers);
      serializer.consume(boost::asio::buffer_size(buffers));
    });
    ASSERT_FALSE(ec);
  }
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

TEST(ResponseHeadTest, OnlyInformationalNoContentAndNotModifiedForbidABody) {
  for (int status : {100, 101, 199, 204, 304}) EXPECT_TRUE(status_forbids_body(status)) << status;
  for (int status : {200, 201, 205, 301, 400, 404, 500, 503}) {
    EXPECT_FALSE(status_forbids_body(status)) << status;
  }
}

}  // namespace
}  // namespace betsdb::http
