#include "api/betting_pause.hpp"

#include "service/responsible_gambling.hpp"

namespace betsdb::api {

boost::asio::awaitable<http::Response> pause_answers_first(ApiShard& shard, std::int64_t user_id,
                                                           http::Response response) {
  if (response.status < 400) co_return response;
  auto allowed = co_await service::require_betting_allowed(shard.ctx, user_id);
  if (!allowed.ok() && allowed.error().is(Errc::self_excluded))
    co_return error_response(allowed.error());
  co_return response;
}

}  // namespace betsdb::api
