// The records behind Idempotency-Key (service/idempotency.hpp): one Redis
// value per key, first a claim, then the final answer.
//
// Errors: service_unavailable when Redis cannot answer. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "service/ports/async.hpp"

namespace betsdb::service {

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Writes `claim` under `key` for `ttl` unless the key holds something; that
  // something when it does (nothing written), nullopt when the claim is ours.
  virtual Async<std::optional<std::string>> claim(const std::string& key, const std::string& claim,
                                                  std::chrono::milliseconds ttl) = 0;
  // Replaces our claim with `answer` for `retention`, also when the claim
  // expired meanwhile; false (nothing written) when someone else's record is
  // there.
  virtual Async<bool> answer(const std::string& key, const std::string& claim,
                             const std::string& answer, std::chrono::milliseconds retention) = 0;
};

}  // namespace betsdb::service
