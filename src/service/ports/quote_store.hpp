// Where cash-out quotes live between the quote and its acceptance: one
// value per quote id, gone after its time to live (Redis behind it, so every
// instance sees every quote).
//
// Errors: service_unavailable when the store cannot answer. Thread-safety:
// one shard's thread, like the Context that holds it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "service/ports/async.hpp"

namespace betsdb::service {

class QuoteStore {
 public:
  virtual ~QuoteStore() = default;

  virtual Async<void> put(const std::string& quote_id, const std::string& quote,
                          std::chrono::milliseconds ttl) = 0;
  // nullopt when unknown or expired.
  virtual Async<std::optional<std::string>> get(const std::string& quote_id) = 0;
};

}  // namespace betsdb::service
