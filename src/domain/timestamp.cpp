#include "domain/timestamp.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace betsdb::domain {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kSyntax = "must be an RFC 3339 date-time such as 2026-12-01T19:45:00Z";
constexpr std::string_view kBadDate = "is not a valid calendar date";
constexpr std::string_view kBadTime = "is not a valid time of day";
constexpr std::string_view kBadOffset = "has an invalid UTC offset";
constexpr std::string_view kBadYear = "must be between years 0001 and 9999";

constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
constexpr std::size_t kFractionDigits = 6;  // microseconds

// Reads exactly `width` ASCII digits at `pos`, advancing it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, int width) {
  if (pos + static_cast<std::size_t>(width) > text.size()) return std::nullopt;
  int value = 0;
  for (int k = 0; k < width; ++k) {
    const char c = text[pos + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(width);
  return value;
}

bool read_char(std::string_view text, std::size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

Error invalid(std::string_view field, std::string_view message) {
  return Error::validation(std::string(field), std::string(message));
}

int year_of(Timestamp time) {
  return static_cast<int>(std::chrono::year_month_day{std::chrono::floor<days>(time)}.year());
}

void append_padded(std::string& out, std::int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (digits.size() < static_cast<std::size_t>(width)) {
    out.append(static_cast<std::size_t>(width) - digits.size(), '0');
  }
  out += digits;
}

}  // namespace

Result<Timestamp> parse_rfc3339(std::string_view text, std::string_view field) {
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !read_char(text, pos, '-')) return invalid(field, kSyntax);
  const auto month = read_digits(text, pos, 2);
  if (!month || !read_char(text, pos, '-')) return invalid(field, kSyntax);
  const auto day = read_digits(text, pos, 2);
  if (!day || pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) {
    return invalid(field, kSyntax);
  }
  ++pos;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !read_char(text, pos, ':')) return invalid(field, kSyntax);
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !read_char(text, pos, ':')) return invalid(field, kSyntax);
  const auto second = read_digits(text, pos, 2);
  if (!second) return invalid(field, kSyntax);

  std::int64_t fraction_us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t first_digit = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == first_digit) return invalid(field, kSyntax);
    // Only the first six digits count: finer than microseconds is truncated.
    const auto used = std::min<std::size_t>(pos - first_digit, kFractionDigits);
    for (std::size_t k = 0; k < kFractionDigits; ++k) {
      fraction_us = fraction_us * 10 + (k < used ? text[first_digit + k] - '0' : 0);
    }
  }

  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto offset_hours = read_digits(text, pos, 2);
    if (!offset_hours || !read_char(text, pos, ':')) return invalid(field, kSyntax);
    const auto offset_mins = read_digits(text, pos, 2);
    if (!offset_mins) return invalid(field, kSyntax);
    if (*offset_hours > 23 || *offset_mins > 59) return invalid(field, kBadOffset);
    offset_minutes = sign * (*offset_hours * 60 + *offset_mins);
  } else {
    return invalid(field, kSyntax);
  }
  if (pos != text.size()) return invalid(field, kSyntax);

  if (*year < kMinYear) return invalid(field, kBadYear);
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return invalid(field, kBadDate);
  if (*hour > 23 || *minute > 59 || *second > 60) return invalid(field, kBadTime);
  // RFC 3339 (5.6, 5.7): second 60 is a leap second, which only ends a UTC day.
  if (*second == 60) {
    const int utc_minute_of_day = ((*hour * 60 + *minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc_minute_of_day != 23 * 60 + 59) return invalid(field, kBadTime);
  }

  const Timestamp local = std::chrono::sys_days{date} + hours{*hour} + minutes{*minute} +
                          seconds{*second} + microseconds{fraction_us};
  const Timestamp utc = local - minutes{offset_minutes};
  const int utc_year = year_of(utc);
  if (utc_year < kMinYear || utc_year > kMaxYear) return invalid(field, kBadYear);
  return utc;
}

std::string format_rfc3339(Timestamp time) {
  const auto day_start = std::chrono::floor<days>(time);
  const std::chrono::year_month_day date{day_start};
  const std::chrono::hh_mm_ss<microseconds> clock{time - day_start};

  std::string out;
  out.reserve(std::string_view("2026-12-01T19:45:00.000000Z").size());
  const int year = static_cast<int>(date.year());
  if (year < 0) out += '-';
  append_padded(out, year < 0 ? -std::int64_t{year} : year, 4);
  out += '-';
  append_padded(out, static_cast<unsigned>(date.month()), 2);
  out += '-';
  append_padded(out, static_cast<unsigned>(date.day()), 2);
  out += 'T';
  append_padded(out, clock.hours().count(), 2);
  out += ':';
  append_padded(out, clock.minutes().count(), 2);
  out += ':';
  append_padded(out, clock.seconds().count(), 2);

  std::int64_t fraction = clock.subseconds().count();
  if (fraction != 0) {
    int width = static_cast<int>(kFractionDigits);
    while (fraction % 10 == 0) {
      fraction /= 10;
      --width;
    }
    out += '.';
    append_padded(out, fraction, width);
  }
  out += 'Z';
  return out;
}

}  // namespace betsdb::domain
