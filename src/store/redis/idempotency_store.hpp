// The Redis side of Idempotency-Key records (service/idempotency.hpp says
// what they mean): one string value per key, first a claim, then the final
// answer. Each function is one Lua script, so a check and its write are
// atomic.
//
// Results: service_unavailable when Redis cannot answer or refuses (OOM).
// Thread-safety: as redis::Commands (one shard's thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "store/redis/commands.hpp"

namespace betsdb::redis {

// Sets `key` to `claim` for `ttl` unless it holds something; that something
// when it does (nothing written), nullopt when the claim was written.
boost::asio::awaitable<Result<std::optional<std::string>>> claim_record(
    Commands& client, const std::string& key, const std::string& claim,
    std::chrono::milliseconds ttl);

// Sets `key` to `answer` for `retention` if it holds `claim` or nothing (the
// claim expired); true when written, false when another record is there.
boost::asio::awaitable<Result<bool>> answer_record(Commands& client, const std::string& key,
                                                   const std::string& claim,
                                                   const std::string& answer,
                                                   std::chrono::milliseconds retention);

}  // namespace betsdb::redis
