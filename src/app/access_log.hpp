// The access log: one JSON line per answered request (util/logging.hpp),
//   {"ts":...,"level":"info","msg":"request","request_id":"...","method":"POST",
//    "route":"/v1/bets","path":"/v1/bets","status":201,"latency_ms":3.412,
//    "principal":"user","user_id":7}
// at info, or at warn for a 5xx answer so it shows under BETSDB_LOG_LEVEL=warn.
// Never logged: headers (Authorization and its token above all), the query
// string, bodies.
//
// Thread-safety: as spdlog's default logger (any thread).
#pragma once

#include "http/server.hpp"

namespace betsdb::app {

void log_access(const http::RequestRecord& record);

}  // namespace betsdb::app
