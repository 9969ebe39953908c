// /healthz and /readyz: liveness and readiness probes. They carry no auth so
// that load balancers and orchestrators can call them.
#include "api/api_shard.hpp"
#include "store/pg/user_store.hpp"
#include "util/json_writer.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

namespace {
constexpr pg::Statement kPing{"ping", "SELECT 1"};
}

void add_ops_routes(http::Router& router, ApiShard& shard) {
  router.add({http::Method::get, "/healthz", {}, [](http::Request&) -> asio::awaitable<http::Response> {
                co_return json_response(200, R"({"status":"ok"})");
              }});

  router.add({http::Method::get, "/readyz", {}, [&shard](http::Request&) -> asio::awaitable<http::Response> {
                auto redis = co_await shard.ctx.redis->command("PING");
                const bool redis_ok = redis.ok() && !redis->is_error();
                const pg::Params no_params;
                auto pg = co_await shard.ctx.db->execute(kPing, no_params);
                const bool pg_ok = pg.ok();
                if (redis_ok && pg_ok) {
                  co_return json_response(200, R"({"status":"ok","redis":"ok","postgres":"ok"})");
                }
                std::string down = !redis_ok && !pg_ok ? std::string("Redis and PostgreSQL are")
                                   : !redis_ok         ? "Redis is"
                                                       : "PostgreSQL is";
                auto response = error_response(Error::unavailable(down + " not answering."));
                co_return response;
              }});
}

}  // namespace betsdb::api
