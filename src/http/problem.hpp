// RFC 9457 problem+json responses built from an Error.
#pragma once

#include "http/request.hpp"
#include "util/error.hpp"

namespace betsdb::http {

Response problem(const Error& error);

}  // namespace betsdb::http
