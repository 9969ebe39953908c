// GET /metrics: the Prometheus text format (docs/operations.md lists the
// metrics). No auth, like the probes, so a scraper needs no credential; it
// reveals traffic figures, not data, and belongs inside the network edge.
#include "api/api_shard.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

namespace {
constexpr std::string_view kPrometheusTextFormat = "text/plain; version=0.0.4; charset=utf-8";
}

void add_metrics_routes(http::Router& router, ApiShard& shard) {
  if (!shard.metrics) return;
  router.add({http::Method::get,
              "/metrics",
              {},
              [&shard](http::Request&) -> asio::awaitable<http::Response> {
                http::Response response;
                response.status = 200;
                response.content_type = std::string(kPrometheusTextFormat);
                response.body = co_await shard.metrics();
                // Figures change every instant: never serve them from a cache.
                response.headers.push_back({"Cache-Control", "no-store"});
                co_return response;
              }});
}

}  // namespace betsdb::api
