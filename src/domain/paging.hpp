// Paging of list endpoints (API.md, "Lists"): `limit` 1..100 (default 20),
// `offset` >= 0 (default 0). Malformed values are a query-string error,
// 400 invalid_parameter, not a body validation error.
//
// Thread-safety: plain value type and pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "util/result.hpp"

namespace betsdb::domain {

inline constexpr int kDefaultLimit = 20;
inline constexpr int kMinLimit = 1;
// Caps the rows (and the JSON) one request can make the server produce.
inline constexpr int kMaxLimit = 100;

struct Page {
  int limit = kDefaultLimit;
  std::int64_t offset = 0;

  friend bool operator==(const Page&, const Page&) = default;
};

// The page asked for; absent values take their defaults. Out of range:
// Errc::invalid_parameter with a detail naming the parameter, and one field
// error on it ("limit", "must be between 1 and 100").
Result<Page> page_from(std::optional<std::int64_t> limit, std::optional<std::int64_t> offset);

}  // namespace betsdb::domain
