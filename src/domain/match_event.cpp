#include "domain/match_event.hpp"

#include <charconv>

namespace betsdb::domain {

namespace {

std::optional<std::uint64_t> parse_part(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<EventId> EventId::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parse_part(text.substr(0, dash));
  auto seq = parse_part(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return EventId{*ms, *seq};
}

std::string EventId::text() const {
  return std::to_string(ms) + "-" + std::to_string(seq);
}

}  // namespace betsdb::domain
