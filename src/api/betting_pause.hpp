// A running self-exclusion or time-out answers before a route's other checks
// (API.md, "Responsible gambling"). The routes that add risk refuse a paused
// bettor where they write (the debit and deposit statements, the cart
// scripts), so only a refusal needs to ask PostgreSQL whether a pause comes
// first: a request that succeeds pays for no look-up.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "api/api_shard.hpp"

namespace betsdb::api {

// `response`, unless it is a refusal and `user_id`'s betting is paused: then
// 403 self_excluded. A look-up that fails leaves `response` as it is.
boost::asio::awaitable<http::Response> pause_answers_first(ApiShard& shard, std::int64_t user_id,
                                                           http::Response response);

}  // namespace betsdb::api
