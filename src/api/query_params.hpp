// Query-string parsing with the contract's strictness: unknown or repeated
// parameters and malformed values are 400 invalid_parameter.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/paging.hpp"
#include "util/result.hpp"

namespace betsdb::api {

class QueryParams final {
 public:
  // Percent-decodes ('+' is a space, as in form encoding) and checks names against `allowed`.
  static Result<QueryParams> parse(std::string_view raw,
                                   std::initializer_list<std::string_view> allowed);

  std::optional<std::string_view> get(std::string_view name) const;
  // limit (1..100, default 20) and offset (>= 0, default 0).
  Result<domain::Page> page() const;
  // An optional integer parameter within [min, max].
  Result<std::optional<std::int64_t>> integer(std::string_view name, std::int64_t min,
                                              std::int64_t max) const;
  // A canonical form: parameters sorted by name, re-encoded. Equal queries
  // written in any order give the same string (used for cache keys).
  std::string canonical() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

Error invalid_parameter(std::string_view name, std::string_view message);

}  // namespace betsdb::api
