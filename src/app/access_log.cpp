#include "app/access_log.hpp"

#include "http/request_metrics.hpp"
#include "util/logging.hpp"

namespace betsdb::app {

namespace {
constexpr int kFirstServerError = 500;
// Microsecond resolution, in the unit people read latencies in.
constexpr int kLatencyDecimals = 3;
constexpr double kNanosPerMilli = 1e6;
}  // namespace

void log_access(const http::RequestRecord& record) {
  if (!record.request) return;
  const auto level = record.status >= kFirstServerError ? spdlog::level::warn : spdlog::level::info;
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  const http::Request& req = *record.request;
  logging::Fields fields;
  fields.add("request_id", req.request_id)
      .add("method", http::method_name(req.method))
      .add("route", req.route.empty() ? http::kUnmatchedRoute : req.route)
      .add("path", req.path)
      .add("status", record.status)
      .add_fixed("latency_ms", static_cast<double>(record.latency.count()) / kNanosPerMilli,
                 kLatencyDecimals);
  // Who, as the route's guard established it; never the credential itself.
  if (req.principal.is_owner()) fields.add("principal", "admin");
  if (req.principal.is_operator()) {
    fields.add("principal", "operator")
        .add("operator_id", req.principal.operator_id)
        .add("role", http::role_name(req.principal.role));
  }
  if (req.principal.is_user())
    fields.add("principal", "user").add("user_id", req.principal.user_id);
  logging::log_event(level, "request", fields);
}

}  // namespace betsdb::app
