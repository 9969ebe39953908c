#include "util/logging.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace betsdb::logging {
namespace {

std::string format(const spdlog::details::log_msg& msg) {
  JsonLineFormatter formatter;
  spdlog::memory_buf_t buffer;
  formatter.format(msg, buffer);
  return std::string(buffer.data(), buffer.size());
}

spdlog::details::log_msg plain(std::string_view text, spdlog::level::level_enum level) {
  spdlog::details::log_msg msg("betsdb", level, spdlog::string_view_t(text.data(), text.size()));
  // 2026-12-01T19:45:00.123456Z
  msg.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1796154300123456));
  return msg;
}

TEST(JsonLineFormatter, WritesAPlainMessageAsOneJsonLine) {
  const auto line = format(plain("listening on http://127.0.0.1:8080", spdlog::level::info));
  EXPECT_EQ(line,
            "{\"ts\":\"2026-12-01T19:45:00.123456Z\",\"level\":\"info\","
            "\"msg\":\"listening on http://127.0.0.1:8080\"}\n");
}

TEST(JsonLineFormatter, EscapesWhatAMessageCarriesSoTheLineStaysValidJson) {
  const std::string text = "bad \"quote\" \\ new\nline \x01 and \xff\xfe bytes, caf\xc3\xa9";
  const auto line = format(plain(text, spdlog::level::warn));
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto parsed = boost::json::parse(line).as_object();
  EXPECT_EQ(parsed["level"].as_string(), "warn");
  EXPECT_EQ(parsed["msg"].as_string(),
            "bad \"quote\" \\ new\nline \x01 and \xef\xbf\xbd\xef\xbf\xbd bytes, caf\xc3\xa9");
}

TEST(JsonLineFormatter, APlainMessageCannotForgeFields) {
  const auto line = format(plain("\"msg\":\"x\",\"status\":200", spdlog::level::err));
  auto parsed = boost::json::parse(line).as_object();
  EXPECT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed["level"].as_string(), "error");
  EXPECT_EQ(parsed["msg"].as_string(), "\"msg\":\"x\",\"status\":200");
}

TEST(JsonLineFormatter, WritesStructuredEventsWithTheirFields) {
  Fields fields;
  fields.add("request_id", "ab\"c").add("status", 201).add_fixed("latency_ms", 1.23456, 3);
  const std::string payload = "\"msg\":\"request\"" + fields.json();
  spdlog::details::log_msg msg(event_location(), "betsdb", spdlog::level::info,
                               spdlog::string_view_t(payload.data(), payload.size()));
  auto parsed = boost::json::parse(format(msg)).as_object();
  EXPECT_EQ(parsed["msg"].as_string(), "request");
  EXPECT_EQ(parsed["request_id"].as_string(), "ab\"c");
  EXPECT_EQ(parsed["status"].as_int64(), 201);
  EXPECT_DOUBLE_EQ(parsed["latency_ms"].as_double(), 1.235);
}

TEST(ParseLevel, AcceptsTheDocumentedNamesOnly) {
  EXPECT_EQ(parse_level("trace"), spdlog::level::trace);
  EXPECT_EQ(parse_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_level("off"), spdlog::level::off);
  EXPECT_FALSE(parse_level("verbose"));
  EXPECT_FALSE(parse_level("INFO"));
  EXPECT_FALSE(parse_level(""));
}

}  // namespace
}  // namespace betsdb::logging
