#include "store/pg/lsn.hpp"

#include <charconv>

namespace betsdb::pg {

namespace {

std::optional<std::uint32_t> half(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Lsn> parse_lsn(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto high = half(text.substr(0, slash));
  const auto low = half(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return (static_cast<Lsn>(*high) << 32) | *low;
}

std::string format_lsn(Lsn lsn) {
  char text[18];
  auto* end = std::to_chars(text, text + 8, static_cast<std::uint32_t>(lsn >> 32), 16).ptr;
  *end++ = '/';
  end = std::to_chars(end, end + 8, static_cast<std::uint32_t>(lsn), 16).ptr;
  std::string out(text, end);
  for (char& c : out) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace betsdb::pg
