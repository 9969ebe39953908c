#include "domain/paging.hpp"

#include <string>

namespace betsdb::domain {

namespace {
Error out_of_range(std::string field, std::string message) {
  Error e = Error::make(Errc::invalid_parameter, field + " " + message);
  e.field_errors.push_back({std::move(field), std::move(message)});
  return e;
}
}  // namespace

Result<Page> page_from(std::optional<std::int64_t> limit, std::optional<std::int64_t> offset) {
  Page page;
  if (limit) {
    if (*limit < kMinLimit || *limit > kMaxLimit) {
      return out_of_range("limit", "must be between " + std::to_string(kMinLimit) + " and " +
                                       std::to_string(kMaxLimit));
    }
    page.limit = static_cast<int>(*limit);
  }
  if (offset) {
    if (*offset < 0) return out_of_range("offset", "must be at least 0");
    page.offset = *offset;
  }
  return page;
}

}  // namespace betsdb::domain
