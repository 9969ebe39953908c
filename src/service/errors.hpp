// Errors that more than one use case answers, worded once.
#pragma once

#include <cstdint>
#include <string>

#include "util/error.hpp"

namespace betsdb::service {

inline Error user_not_found(std::int64_t user_id) {
  return Error::make(Errc::user_not_found, "No user with id " + std::to_string(user_id) + ".");
}

}  // namespace betsdb::service
