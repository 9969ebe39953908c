// Logs as JSON lines: every record, whoever logs it, is one JSON object on
// one line, so log shippers need no parsing rules:
//
//   {"ts":"2026-12-01T19:45:00.123456Z","level":"info","msg":"betsdb 0.1.0 listening on ..."}
//   {"ts":"...","level":"info","msg":"request","request_id":"4f1c...","status":201,...}
//
// Plain spdlog calls (spdlog::info("... {}", x)) keep working: their text
// becomes "msg", escaped, with invalid UTF-8 replaced by U+FFFD so a line is
// always valid JSON whatever bytes a message carries. log_event() adds
// structured fields after "msg".
//
// Thread-safety: setup_logging() once, at start-up, before other threads log;
// everything else as spdlog (its loggers are thread-safe).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace betsdb::logging {

// "trace", "debug", "info", "warn", "error", "off"; nullopt for anything
// else (spdlog itself would silently turn an unknown name into "off").
std::optional<spdlog::level::level_enum> parse_level(std::string_view name) noexcept;
// The names accepted above, for messages.
inline constexpr std::string_view kLevelNames = "trace, debug, info, warn, error, off";

enum class Output {
  // The server: a background thread writes the lines, so a slow or blocked
  // stdout never stalls an event loop. If lines come faster than stdout takes
  // them, the oldest queued ones are dropped (and counted), never the loop.
  stdout_async,
  // Command-line tools: written at once, to stderr, leaving stdout to results.
  stderr_sync,
};

// Replaces the default logger with one that writes JSON lines to `output`.
void setup_logging(spdlog::level::level_enum level, Output output);
// Flushes and stops the background writer; call before exiting.
void shutdown_logging() noexcept;
// Lines dropped because the background writer fell behind.
std::uint64_t dropped_lines() noexcept;

// The fields of a structured record, as JSON text: add() escapes strings.
class Fields final {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, std::int64_t value);
  Fields& add(std::string_view key, int value) {
    return add(key, static_cast<std::int64_t>(value));
  }
  // A number with `decimals` digits after the point, e.g. a latency in ms.
  Fields& add_fixed(std::string_view key, double value, int decimals);

  const std::string& json() const noexcept { return json_; }

 private:
  void key(std::string_view k);
  std::string json_;  // ,"key":value,"key":value
};

// Logs {"ts","level","msg":msg, ...fields} on the default logger.
void log_event(spdlog::level::level_enum level, std::string_view msg, const Fields& fields);

// The formatter setup_logging() installs; public for tests.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// The source location log_event() marks its records with, so the formatter
// can tell them from plain messages (whose text could look like anything).
spdlog::source_loc event_location() noexcept;

}  // namespace betsdb::logging
