// Odds: decimal odds stored exactly as integer hundredths (2.10 -> 210), never as
// a binary float, because payouts are computed from them in integers and
// "2.10" must mean exactly 2.10 (API.md, "Odds").
//
// JSON carries odds as numbers, so they arrive in three shapes, each with its
// factory: a JSON integer (odds_from_integer), a JSON double (odds_from_number),
// or the stored hundredths (odds_from_hundredths). When the caller still has the
// number's literal text, decimal_literal_has_at_most_2_decimals() decides
// "at most 2 decimals" exactly, which a double cannot ("2.1000000000000001"
// and "2.1" are the same double).
//
// Thread-safety: a plain value type, like Money.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace betsdb::domain {

// The contract's range 1.01 .. 1000.00: odds of 1.00 would return only the stake.
inline constexpr std::int64_t kMinOddsHundredths = 101;
inline constexpr std::int64_t kMaxOddsHundredths = 100'000;

// Invariant: kMinOddsHundredths <= hundredths() <= kMaxOddsHundredths.
class Odds final {
 public:
  // The minimum odds, so that even a default-constructed Odds is valid; it exists
  // so Odds can be a member of structs that are filled field by field.
  constexpr Odds() noexcept = default;

  constexpr std::int64_t hundredths() const noexcept { return hundredths_; }
  // Exactly two decimals: "2.10", "1000.00".
  std::string to_string() const;
  // For JSON output only; never compute money from it.
  double to_double() const noexcept { return static_cast<double>(hundredths_) / 100.0; }

  friend constexpr auto operator<=>(Odds, Odds) noexcept = default;

 private:
  constexpr explicit Odds(std::int64_t hundredths) noexcept : hundredths_(hundredths) {}
  friend Result<Odds> odds_from_hundredths(std::int64_t, std::string_view);

  std::int64_t hundredths_ = kMinOddsHundredths;
};

// All factories fail with validation_failed on `field` (e.g. "odds.X").
// Out of range: "must be between 1.01 and 1000.00".
Result<Odds> odds_from_hundredths(std::int64_t hundredths, std::string_view field);
// A JSON integer such as 3 (= 3.00).
Result<Odds> odds_from_integer(std::int64_t value, std::string_view field);
// A JSON double. Rejects non-finite values and values whose value*100 is not
// within 1e-6 of an integer ("must have at most 2 decimals"), then rounds
// value*100 to the nearest integer. The tolerance absorbs binary rounding
// (2.10 * 100 == 210.00000000000003); it cannot see digits that the double
// lost, which is what decimal_literal_has_at_most_2_decimals() is for.
Result<Odds> odds_from_number(double value, std::string_view field);

// Exact test on the literal text of a JSON number, grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? : true iff the literal is
// well-formed and its value times 100 is an integer ("2.10", "2.100", "210e-2"
// yes; "2.105", "1e-3" no). Linear in the text, never overflows, whatever the
// exponent ("1e999999999999" is true).
bool decimal_literal_has_at_most_2_decimals(std::string_view json_number_literal) noexcept;

}  // namespace betsdb::domain
