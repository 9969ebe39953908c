#include "util/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "util/json_escape.hpp"

namespace betsdb::logging {

namespace {

// Queued lines before the oldest are dropped. spdlog allocates and touches
// every slot up front, ~450 bytes each, whatever is logged. At info and below
// every request is a line, so the queue rides out a burst of several thousand
// requests while stdout lags (3.7 MB); above info only problems are logged,
// and a queue an eighth of that size costs 3.2 MB less of resident memory.
constexpr std::size_t kAsyncQueueLinesPerRequest = 8192;
constexpr std::size_t kAsyncQueueLinesProblemsOnly = 1024;

std::size_t async_queue_lines(spdlog::level::level_enum level) {
  return level <= spdlog::level::info ? kAsyncQueueLinesPerRequest : kAsyncQueueLinesProblemsOnly;
}

constexpr char kEventTag[] = "betsdb-structured-event";
std::string_view level_name(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto us = time_point_cast<microseconds>(time);
  const auto day = floor<days>(us);
  const year_month_day ymd{day};
  const hh_mm_ss hms{us - day};
  char buffer[40];
  const int n = std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
      static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  if (n > 0) out.append(buffer, static_cast<std::size_t>(n));
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) noexcept {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

spdlog::source_loc event_location() noexcept {
  return spdlog::source_loc{kEventTag, 1, kEventTag};
}

void JsonLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string line;
  line.reserve(msg.payload.size() + 96);
  line += "{\"ts\":\"";
  append_timestamp(line, msg.time);
  line += "\",\"level\":\"";
  line += level_name(msg.level);
  line += "\",";
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  // Pointer identity, not text: no message can pretend to be an event.
  if (msg.source.funcname == kEventTag) {
    line += payload;  // "msg":"...","key":value... built by log_event
  } else {
    line += "\"msg\":\"";
    append_json_escaped(line, payload);
    line += '"';
  }
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLineFormatter::clone() const {
  return std::make_unique<JsonLineFormatter>();
}

void setup_logging(spdlog::level::level_enum level, Output output) {
  std::shared_ptr<spdlog::logger> logger;
  if (output == Output::stdout_async) {
    spdlog::init_thread_pool(async_queue_lines(level), 1);
    logger = std::make_shared<spdlog::async_logger>(
        "betsdb", std::make_shared<spdlog::sinks::stdout_sink_mt>(), spdlog::thread_pool(),
        spdlog::async_overflow_policy::overrun_oldest);
  } else {
    logger = std::make_shared<spdlog::logger>("betsdb",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  logger->set_formatter(std::make_unique<JsonLineFormatter>());
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
}

void shutdown_logging() noexcept {
  // Held until the worker thread has been joined (spdlog::shutdown), so the
  // logger is destroyed here and never by the worker as it drops the last
  // queued line: that hand-over happens inside libspdlog, which sanitizers
  // do not see, and ThreadSanitizer reported it as a race.
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  try {
    logger->flush();
  } catch (...) {
    // Nothing sensible to do about a failed flush on the way out.
  }
  spdlog::shutdown();
  logger.reset();
}

std::uint64_t dropped_lines() noexcept {
  auto pool = spdlog::thread_pool();
  return pool ? pool->overrun_counter() : 0;
}

Fields& Fields::add(std::string_view k, std::string_view value) {
  key(k);
  json_ += '"';
  append_json_escaped(json_, value);
  json_ += '"';
  return *this;
}

Fields& Fields::add(std::string_view k, std::int64_t value) {
  key(k);
  json_ += std::to_string(value);
  return *this;
}

Fields& Fields::add_fixed(std::string_view k, double value, int decimals) {
  key(k);
  if (!std::isfinite(value)) {
    json_ += "null";
    return *this;
  }
  char buffer[48];
  const int n = std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  json_.append(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  return *this;
}

void Fields::key(std::string_view k) {
  json_ += ",\"";
  append_json_escaped(json_, k);
  json_ += "\":";
}

void log_event(spdlog::level::level_enum level, std::string_view msg, const Fields& fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string payload = "\"msg\":\"";
  append_json_escaped(payload, msg);
  payload += '"';
  payload += fields.json();
  logger->log(event_location(), level, spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace betsdb::logging
