// libFuzzer target over the request path: raw bytes -> HTTP/1.1 parser ->
// router -> the route's handler, which validates the body and query first.
//
// The first input byte picks the caller (anonymous, the admin, or user 1) so
// every body schema is reached without a real token; guards are covered by
// the API tests' route walk. PostgreSQL and Redis are unreachable on purpose:
// a handler that gets past validation meets 503, which is a fine answer here.
// Any other 5xx, a crash, a leak or a sanitizer report is a finding.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "api/api_shard.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"
#include "service/wiring.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/redis_client.hpp"

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace betsdb;

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kBodyLimit = 64 * 1024;

struct Harness {
  asio::io_context ioc;
  std::unique_ptr<api::ApiShard> shard;
  http::Router router;

  Harness() {
    pg::PoolConfig pool_config;
    // Port 1: refused at once, so a valid request costs microseconds.
    pool_config.conninfo = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1";
    pool_config.size = 1;
    auto pool = pg::Pool::create(ioc.get_executor(), pool_config);
    // Never started: every command fails at once with service_unavailable.
    auto redis = redis::Client::create(ioc.get_executor(), redis::Config{});
    service::Wiring wiring{pool, redis, std::chrono::seconds(60)};
    wiring.passwords = std::make_shared<service::PasswordPool>(1, 4);
    shard =
        std::make_unique<api::ApiShard>(service::connect_context(wiring),
                                        api::AdminTokens{"fuzz-admin", {}}, api::MetricsRenderer{});
    router = api::build_router(*shard);
  }
};

void fail(const char* what, int status, const std::string& body) {
  std::fprintf(stderr, "finding: %s (status %d): %.300s\n", what, status, body.c_str());
  std::abort();
}

void check(const http::Response& response) {
  if (response.status >= 500 && response.status != 503)
    fail("5xx answer", response.status, response.body);
  if (response.status < 100 || response.status > 599)
    fail("bad status", response.status, response.body);
  if (response.content_type.find("json") != std::string::npos) {
    boost::system::error_code ec;
    boost::json::parse(response.body, ec);
    if (ec) fail("invalid JSON body", response.status, response.body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  if (size < 1) return 0;
  const std::uint8_t caller = data[0] % 3;
  ++data;
  --size;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const std::size_t n = parser.put(asio::buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;  // the server answers 400 or waits: no handler runs
  }

  http::Request request = http::to_request(parser.get());
  auto match = harness.router.resolve(request.method, request.path);
  if (!match.ok()) {
    check(http::problem(match.error()));
    return 0;
  }
  request.route = match->route->pattern;
  request.path_ids = match->ids;
  request.body = parser.get().body();
  if (caller == 1) request.principal = http::Principal::owner();
  if (caller == 2) request.principal = http::Principal::user(1);

  std::optional<http::Response> response;
  asio::co_spawn(harness.ioc, match->route->handler(request),
                 [&](std::exception_ptr e, http::Response r) {
                   if (e) fail("exception escaped a handler", 0, "");
                   response = std::move(r);
                 });
  harness.ioc.restart();
  harness.ioc.run();
  if (!response) fail("handler did not finish", 0, "");
  check(*response);
  return 0;
}
