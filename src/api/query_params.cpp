#include "api/query_params.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace betsdb::api {

namespace {
// Far above any legitimate query of this API; refuses pathological inputs early.
constexpr std::size_t kMaxParams = 32;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    // Form encoding, as browsers and HTTP libraries send it: '+' is a
    // space, so a literal '+' (a time zone offset) must be sent as %2B.
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

void percent_encode(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
}
}  // namespace

Error invalid_parameter(std::string_view name, std::string_view message) {
  Error e = Error::make(Errc::invalid_parameter, "Query parameter '" + std::string(name) + "' " +
                                                     std::string(message) + ".");
  e.field_errors.push_back({std::string(name), std::string(message)});
  return e;
}

Result<QueryParams> QueryParams::parse(std::string_view raw,
                                       std::initializer_list<std::string_view> allowed) {
  QueryParams q;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    auto amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view pair = raw.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value)
      return invalid_parameter(pair.substr(0, eq), "is not correctly percent-encoded");
    if (std::find(allowed.begin(), allowed.end(), *name) == allowed.end()) {
      return invalid_parameter(*name, "is not a known parameter");
    }
    for (const auto& [n, v] : q.params_) {
      if (n == *name) return invalid_parameter(*name, "is repeated");
    }
    if (q.params_.size() >= kMaxParams) return invalid_parameter(*name, "is one too many");
    q.params_.emplace_back(std::move(*name), std::move(*value));
  }
  return q;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

Result<std::optional<std::int64_t>> QueryParams::integer(std::string_view name, std::int64_t min,
                                                         std::int64_t max) const {
  auto text = get(name);
  if (!text) return std::optional<std::int64_t>{};
  std::int64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text->empty() || ec != std::errc{} || ptr != end || (*text)[0] == '+') {
    return invalid_parameter(name, "must be an integer");
  }
  if (value < min || value > max) {
    return invalid_parameter(
        name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>{value};
}

Result<domain::Page> QueryParams::page() const {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  auto limit = integer("limit", kMin, kMax);
  if (!limit.ok()) return std::move(limit).error();
  auto offset = integer("offset", kMin, kMax);
  if (!offset.ok()) return std::move(offset).error();
  // The range is the domain's rule; this only words it as a query error.
  auto page = domain::page_from(*limit, *offset);
  if (!page.ok()) {
    const FieldError& bad = page.error().field_errors.front();
    return invalid_parameter(bad.field, bad.message);
  }
  return page;
}

std::string QueryParams::canonical() const {
  auto sorted = params_;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [n, v] : sorted) {
    if (!out.empty()) out += '&';
    percent_encode(out, n);
    out += '=';
    percent_encode(out, v);
  }
  return out;
}

}  // namespace betsdb::api
