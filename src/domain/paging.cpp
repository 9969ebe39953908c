#include "domain/paging.hpp"

#include <string>

namespace betsdb::domain {

Result<Page> page_from(std::optional<std::int64_t> limit, std::optional<std::int64_t> offset) {
  Page page;
  if (limit) {
    if (*limit < kMinLimit || *limit > kMaxLimit) {
      return Error::make(Errc::invalid_parameter, "limit must be between " +
                                                      std::to_string(kMinLimit) + " and " +
                                                      std::to_string(kMaxLimit));
    }
    page.limit = static_cast<int>(*limit);
  }
  if (offset) {
    if (*offset < 0) return Error::make(Errc::invalid_parameter, "offset must be at least 0");
    page.offset = *offset;
  }
  return page;
}

}  // namespace betsdb::domain
