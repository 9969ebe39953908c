// /healthz and /readyz: liveness and readiness probes. They carry no auth so
// that load balancers and orchestrators can call them.
#include "api/api_shard.hpp"
#include "service/readiness.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

void add_ops_routes(http::Router& router, ApiShard& shard) {
  router.add(
      {http::Method::get, "/healthz", {}, [](http::Request&) -> asio::awaitable<http::Response> {
         co_return json_response(200, R"({"status":"ok"})");
       }});

  router.add({http::Method::get,
              "/readyz",
              {},
              [&shard](http::Request&) -> asio::awaitable<http::Response> {
                const service::Readiness r = co_await service::check_readiness(shard.ctx);
                // Not before the live stream can be served without a gap: a
                // load balancer sends clients to a ready instance at once.
                const bool streaming = !shard.stream_hub || shard.stream_hub->ready();
                if (r.ready() && !streaming) {
                  co_return error_response(
                      Error::unavailable("The live stream is starting: Redis was just reached."));
                }
                if (r.ready()) {
                  co_return json_response(200, R"({"status":"ok","redis":"ok","postgres":"ok"})");
                }
                std::string down = !r.redis && !r.database ? std::string("Redis and PostgreSQL are")
                                   : !r.redis              ? "Redis is"
                                                           : "PostgreSQL is";
                co_return error_response(Error::unavailable(down + " not answering."));
              }});
}

}  // namespace betsdb::api
