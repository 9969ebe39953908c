// Everything the API routes of one shard need: the service context and the
// authenticator. Routes capture a reference to it; it outlives the router.
#pragma once

#include <functional>
#include <string_view>

#include "api/auth.hpp"
#include "api/stream_hub.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"
#include "service/context.hpp"

namespace betsdb::api {

// Renders the whole process's /metrics document (app/metrics_registry.hpp).
using MetricsRenderer = std::function<boost::asio::awaitable<std::string>()>;

struct ApiShard {
  ApiShard(service::Context context, AdminTokens admin, MetricsRenderer render_metrics)
      : ctx(std::move(context)), auth(admin, ctx), metrics(std::move(render_metrics)) {}
  ApiShard(const ApiShard&) = delete;
  ApiShard& operator=(const ApiShard&) = delete;

  service::Context ctx;
  Authenticator auth;       // uses ctx
  MetricsRenderer metrics;  // empty: no /metrics route
  // The live stream (api/stream_hub.hpp), set by the shard before it serves;
  // without a hub, GET /v1/stream answers 503.
  std::shared_ptr<StreamHub> stream_hub;
  std::shared_ptr<StreamAdmission> stream_admission;  // the instance's, shared by its shards
  std::size_t stream_client_buffer = 256 * 1024;      // bytes queued per client before cut-off
};

void add_ops_routes(http::Router& router, ApiShard& shard);
void add_user_routes(http::Router& router, ApiShard& shard);
void add_limits_routes(http::Router& router, ApiShard& shard);    // responsible gambling
void add_session_routes(http::Router& router, ApiShard& shard);   // sign in and out
void add_password_routes(http::Router& router, ApiShard& shard);  // changing a password
void add_operator_routes(http::Router& router, ApiShard& shard);  // operators, the audit
void add_match_routes(http::Router& router, ApiShard& shard);
void add_web_routes(http::Router& router, ApiShard& shard);  // the static web UI at /
void add_bet_routes(http::Router& router, ApiShard& shard);
void add_bet_list_routes(http::Router& router, ApiShard& shard);
void add_cash_out_routes(http::Router& router, ApiShard& shard);
void add_cart_routes(http::Router& router, ApiShard& shard);
void add_metrics_routes(http::Router& router, ApiShard& shard);  // GET /metrics, no auth
void add_stream_routes(http::Router& router, ApiShard& shard);   // GET /v1/stream

// All routes of the API for one shard.
http::Router build_router(ApiShard& shard);

// Small helpers shared by the route files.
inline http::Response error_response(const Error& e) {
  return http::problem(e);
}
inline http::Response json_response(int status, std::string body) {
  return http::Response::json(status, std::move(body));
}

}  // namespace betsdb::api
