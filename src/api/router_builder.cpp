#include "api/api_shard.hpp"

namespace betsdb::api {

http::Router build_router(ApiShard& shard) {
  http::Router router;
  add_ops_routes(router, shard);
  add_user_routes(router, shard);
  add_limits_routes(router, shard);
  add_session_routes(router, shard);
  add_password_routes(router, shard);
  add_operator_routes(router, shard);
  add_match_routes(router, shard);
  add_bet_routes(router, shard);
  add_bet_list_routes(router, shard);
  add_cash_out_routes(router, shard);
  add_cart_routes(router, shard);
  add_stream_routes(router, shard);
  add_web_routes(router, shard);
  add_metrics_routes(router, shard);
  return router;
}

}  // namespace betsdb::api
