// Whether this shard can serve: both dependencies answer (GET /readyz).
#pragma once

#include "service/context.hpp"

namespace betsdb::service {

struct Readiness {
  bool database = false;
  bool redis = false;

  bool ready() const noexcept { return database && redis; }
};

// Never fails: a dependency that does not answer is reported as down.
boost::asio::awaitable<Readiness> check_readiness(Context& ctx);

}  // namespace betsdb::service
