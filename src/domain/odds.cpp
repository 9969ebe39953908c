#include "domain/odds.hpp"

#include <cmath>

namespace betsdb::domain {

namespace {

constexpr std::string_view kOutOfRange = "must be between 1.01 and 1000.00";
constexpr std::string_view kTooManyDecimals = "must have at most 2 decimals";

// How far value*100 may be from an integer and still count as one: far above the
// error of one binary multiplication on values up to 1e5, far below 0.01 * 100.
constexpr double kHundredthsTolerance = 1e-6;

// |value*100| above this cannot be in range; checking it first keeps the
// double -> int64 conversion below well defined.
constexpr double kLargestPlausibleHundredths = 1e12;

// Exponents beyond this are clamped: the digit counts they are compared with are
// bounded by the text length (far below 1e15 characters), so a clamped exponent
// gives the same answer, and exponent * 10 + 9 stays far inside int64.
constexpr std::int64_t kExponentClamp = 1'000'000'000'000'000;  // 1e15

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string Odds::to_string() const {
  std::string text = std::to_string(hundredths_ / 100);
  const auto fraction = hundredths_ % 100;
  text += '.';
  text += static_cast<char>('0' + fraction / 10);
  text += static_cast<char>('0' + fraction % 10);
  return text;
}

Result<Odds> odds_from_hundredths(std::int64_t hundredths, std::string_view field) {
  if (hundredths < kMinOddsHundredths || hundredths > kMaxOddsHundredths) {
    return Error::validation(std::string(field), std::string(kOutOfRange));
  }
  return Odds(hundredths);
}

Result<Odds> odds_from_integer(std::int64_t value, std::string_view field) {
  // Range-check before scaling so that huge values cannot overflow.
  if (value < 1 || value > kMaxOddsHundredths / 100) {
    return Error::validation(std::string(field), std::string(kOutOfRange));
  }
  return odds_from_hundredths(value * 100, field);
}

Result<Odds> odds_from_number(double value, std::string_view field) {
  if (!std::isfinite(value)) {
    return Error::validation(std::string(field), std::string(kTooManyDecimals));
  }
  const double scaled = value * 100.0;
  if (std::fabs(scaled) > kLargestPlausibleHundredths) {
    return Error::validation(std::string(field), std::string(kOutOfRange));
  }
  const double nearest = std::round(scaled);
  if (std::fabs(scaled - nearest) > kHundredthsTolerance) {
    return Error::validation(std::string(field), std::string(kTooManyDecimals));
  }
  return odds_from_hundredths(static_cast<std::int64_t>(nearest), field);
}

// value = digits * 10^(exponent - fraction_digits). With digits = d * 10^t and d
// not divisible by 10, value*100 is an integer iff t - fraction_digits +
// exponent + 2 >= 0 (or the digits are all zero): d * 10^-k with k > 0 is never
// an integer when 10 does not divide d.
bool decimal_literal_has_at_most_2_decimals(std::string_view text) noexcept {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;

  // Integer part.
  if (i >= n || !is_digit(text[i])) return false;
  bool all_zero = true;
  std::int64_t trailing_zeros = 0;  // of the digit string integer part + fraction
  auto take_digit = [&](char c) {
    if (c == '0') {
      ++trailing_zeros;
    } else {
      all_zero = false;
      trailing_zeros = 0;
    }
  };
  if (text[i] == '0') {
    take_digit(text[i]);
    ++i;
  } else {
    while (i < n && is_digit(text[i])) take_digit(text[i++]);
  }

  // Fraction.
  std::int64_t fraction_digits = 0;
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) {
      take_digit(text[i++]);
      ++fraction_digits;
    }
  }

  // Exponent, saturated.
  std::int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) {
      if (exponent < kExponentClamp) exponent = exponent * 10 + (text[i] - '0');
      ++i;
    }
    if (negative) exponent = -exponent;
  }
  if (i != n) return false;

  if (all_zero) return true;
  return trailing_zeros - fraction_digits + exponent + 2 >= 0;
}

}  // namespace betsdb::domain
