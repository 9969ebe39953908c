#include "service/readiness.hpp"

namespace betsdb::service {

boost::asio::awaitable<Readiness> check_readiness(Context& ctx) {
  Readiness r;
  r.redis = (co_await ctx.probe->redis()).ok();
  r.database = (co_await ctx.probe->database()).ok();
  co_return r;
}

}  // namespace betsdb::service
