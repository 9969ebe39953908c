#include "domain/odds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::IsValidationError;

constexpr std::string_view kRange = "must be between 1.01 and 1000.00";
constexpr std::string_view kDecimals = "must have at most 2 decimals";

TEST(Odds, DefaultIsTheMinimumSoItIsAlwaysValid) {
  EXPECT_EQ(Odds().hundredths(), kMinOddsHundredths);
}

TEST(OddsFromHundredths, AcceptsTheContractRangeInclusive) {
  ASSERT_TRUE(odds_from_hundredths(101, "odds.1").ok());
  EXPECT_EQ(odds_from_hundredths(101, "odds.1")->hundredths(), 101);
  ASSERT_TRUE(odds_from_hundredths(100'000, "odds.1").ok());
  EXPECT_EQ(odds_from_hundredths(100'000, "odds.1")->hundredths(), 100'000);
}

TEST(OddsFromHundredths, RejectsOutsideTheRange) {
  EXPECT_TRUE(IsValidationError(odds_from_hundredths(100, "odds.X"), "odds.X", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_hundredths(100'001, "odds.X"), "odds.X", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_hundredths(0, "odds.X"), "odds.X", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_hundredths(-210, "odds.X"), "odds.X", kRange));
}

TEST(OddsFromInteger, ScalesToHundredths) {
  ASSERT_TRUE(odds_from_integer(2, "odds.2").ok());
  EXPECT_EQ(odds_from_integer(2, "odds.2")->hundredths(), 200);
  ASSERT_TRUE(odds_from_integer(1000, "odds.2").ok());
  EXPECT_EQ(odds_from_integer(1000, "odds.2")->hundredths(), 100'000);
}

TEST(OddsFromInteger, RejectsOutsideTheRangeWithoutOverflow) {
  EXPECT_TRUE(IsValidationError(odds_from_integer(1, "odds.2"), "odds.2", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_integer(0, "odds.2"), "odds.2", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_integer(1001, "odds.2"), "odds.2", kRange));
  EXPECT_TRUE(IsValidationError(
      odds_from_integer(std::numeric_limits<std::int64_t>::max(), "odds.2"), "odds.2", kRange));
  EXPECT_TRUE(IsValidationError(
      odds_from_integer(std::numeric_limits<std::int64_t>::min(), "odds.2"), "odds.2", kRange));
}

TEST(OddsFromNumber, AcceptsTwoDecimalsDespiteBinaryRounding) {
  // 2.10 * 100 == 210.00000000000003 and 0.29 * 100 == 28.999999999999996 in binary.
  ASSERT_TRUE(odds_from_number(2.10, "odds.1").ok());
  EXPECT_EQ(odds_from_number(2.10, "odds.1")->hundredths(), 210);
  EXPECT_EQ(odds_from_number(1.01, "odds.1")->hundredths(), 101);
  EXPECT_EQ(odds_from_number(1000.00, "odds.1")->hundredths(), 100'000);
  EXPECT_EQ(odds_from_number(3.25, "odds.1")->hundredths(), 325);
  EXPECT_EQ(odds_from_number(1.15, "odds.1")->hundredths(), 115);
  EXPECT_EQ(odds_from_number(4.35, "odds.1")->hundredths(), 435);
}

TEST(OddsFromNumber, RejectsOutsideTheRange) {
  EXPECT_TRUE(IsValidationError(odds_from_number(1.00, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(1000.01, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(0.0, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(-2.10, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(1e300, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(-1e300, "odds.1"), "odds.1", kRange));
  EXPECT_TRUE(IsValidationError(odds_from_number(1e-300, "odds.1"), "odds.1", kRange));
}

TEST(OddsFromNumber, RejectsMoreThanTwoDecimals) {
  EXPECT_TRUE(IsValidationError(odds_from_number(2.105, "odds.X"), "odds.X", kDecimals));
  EXPECT_TRUE(IsValidationError(odds_from_number(1.001, "odds.X"), "odds.X", kDecimals));
  EXPECT_TRUE(IsValidationError(odds_from_number(999.999, "odds.X"), "odds.X", kDecimals));
  EXPECT_TRUE(IsValidationError(odds_from_number(1000.001, "odds.X"), "odds.X", kDecimals));
  EXPECT_TRUE(IsValidationError(odds_from_number(2.0000001, "odds.X"), "odds.X", kDecimals));
}

TEST(OddsFromNumber, RejectsNonFinite) {
  EXPECT_TRUE(IsValidationError(odds_from_number(std::nan(""), "odds.2"), "odds.2", kDecimals));
  EXPECT_TRUE(IsValidationError(odds_from_number(std::numeric_limits<double>::infinity(), "odds.2"),
                                "odds.2", kDecimals));
  EXPECT_TRUE(IsValidationError(
      odds_from_number(-std::numeric_limits<double>::infinity(), "odds.2"), "odds.2", kDecimals));
}

// Every valid odds value, read as the double a JSON parser makes of its text,
// comes back exactly; and the value half a hundredth above it is refused.
TEST(OddsFromNumber, RoundTripsEveryValidValueAndRefusesEveryHalfHundredth) {
  for (std::int64_t h = kMinOddsHundredths; h <= kMaxOddsHundredths; ++h) {
    const std::string text =
        std::to_string(h / 100) + "." + std::to_string(h % 100 / 10) + std::to_string(h % 10);
    const auto odds = odds_from_number(std::strtod(text.c_str(), nullptr), "odds.1");
    ASSERT_TRUE(odds.ok()) << text;
    ASSERT_EQ(odds->hundredths(), h) << text;
    ASSERT_EQ(odds->to_string(), text);
    const std::string half = text + "5";
    ASSERT_FALSE(odds_from_number(std::strtod(half.c_str(), nullptr), "odds.1").ok()) << half;
  }
}

TEST(Odds, ToStringHasExactlyTwoDecimals) {
  EXPECT_EQ(odds_from_hundredths(210, "o")->to_string(), "2.10");
  EXPECT_EQ(odds_from_hundredths(101, "o")->to_string(), "1.01");
  EXPECT_EQ(odds_from_hundredths(200, "o")->to_string(), "2.00");
  EXPECT_EQ(odds_from_hundredths(100'000, "o")->to_string(), "1000.00");
  EXPECT_EQ(odds_from_hundredths(99'999, "o")->to_string(), "999.99");
}

TEST(Odds, ToDoubleIsTheNearestDouble) {
  EXPECT_EQ(odds_from_hundredths(210, "o")->to_double(), 2.10);
  EXPECT_EQ(odds_from_hundredths(101, "o")->to_double(), 1.01);
  EXPECT_EQ(odds_from_hundredths(100'000, "o")->to_double(), 1000.0);
}

TEST(Odds, ComparesByValue) {
  EXPECT_EQ(*odds_from_hundredths(210, "o"), *odds_from_number(2.1, "o"));
  EXPECT_LT(*odds_from_hundredths(210, "o"), *odds_from_hundredths(211, "o"));
}

TEST(DecimalLiteral, AcceptsValuesWithAtMostTwoDecimals) {
  for (const char* text : {"2.10",
                           "2.100",
                           "2",
                           "2.1e0",
                           "210e-2",
                           "0.5E1",
                           "2.1",
                           "1000.00",
                           "1.01",
                           "0",
                           "-0",
                           "0.0",
                           "0.00000",
                           "-2.10",
                           "1e2",
                           "1E+2",
                           "21000e-4",
                           "2.10000000000000000000",
                           "0e-99",
                           "0.000e-999999999999",
                           "1e999999999999",
                           "1e99999999999999999999999999999999",
                           "12.3e1",
                           "0.01",
                           "0.001e1",
                           "100e-2",
                           "10E-1"}) {
    EXPECT_TRUE(decimal_literal_has_at_most_2_decimals(text)) << text;
  }
}

TEST(DecimalLiteral, RejectsValuesWithMoreDecimals) {
  for (const char* text :
       {"2.105", "2.1000000000000001", "1e-3", "0.001", "-0.001", "1.001", "2105e-3", "2.1e-2",
        "1e-999999999999", "1e-99999999999999999999999999999999", "3.14159", "0.5e-2", "1000.001",
        "100000000000000000000.001"}) {
    EXPECT_FALSE(decimal_literal_has_at_most_2_decimals(text)) << text;
  }
}

TEST(DecimalLiteral, RejectsTextThatIsNotAJsonNumber) {
  for (const char* text :
       {"",     "-",     "+1",       "01",        "-01",   "00",    "1.",    ".5",
        "1.e2", "1e",    "1e+",      "1e-",       "1E+-2", "2.10 ", " 2.10", "2,10",
        "0x10", "NaN",   "Infinity", "-Infinity", "1..2",  "1.2.3", "1e2e3", "5e-1e",
        "--1",  "2.10f", "\"2\"",    "1_000",     "١"}) {
    EXPECT_FALSE(decimal_literal_has_at_most_2_decimals(text)) << text;
  }
}

// A second, independent formulation: move the decimal point of the digit string
// by the exponent plus two places; the value times 100 is an integer iff no
// non-zero digit remains to the right of the point.
bool reference_at_most_2_decimals(const std::string& int_part, const std::string& fraction,
                                  int exponent) {
  const std::string digits = int_part + fraction;
  const long point = static_cast<long>(int_part.size()) + exponent + 2;
  for (long k = std::max(point, 0L); k < static_cast<long>(digits.size()); ++k) {
    if (digits[static_cast<std::size_t>(k)] != '0') return false;
  }
  return true;
}

TEST(DecimalLiteral, AgreesWithAReferenceOnRandomLiterals) {
  std::mt19937 random(20261201);  // fixed seed: reproducible
  const auto digits = [&](std::size_t min_len, std::size_t max_len) {
    std::string s(std::uniform_int_distribution<std::size_t>(min_len, max_len)(random), '0');
    // Mostly zeros, so that trailing-zero cases are common.
    for (char& c : s)
      c = std::uniform_int_distribution<int>(0, 2)(random) == 0
              ? static_cast<char>('0' + std::uniform_int_distribution<int>(0, 9)(random))
              : '0';
    return s;
  };
  for (int i = 0; i < 20'000; ++i) {
    std::string int_part = digits(1, 5);
    if (int_part.size() > 1 && int_part[0] == '0') int_part[0] = '7';
    const bool has_fraction = random() % 2 == 0;
    const std::string fraction = has_fraction ? digits(1, 6) : "";
    const bool has_exponent = random() % 2 == 0;
    const int exponent = has_exponent ? std::uniform_int_distribution<int>(-9, 9)(random) : 0;
    std::string text = (random() % 4 == 0 ? "-" : "") + int_part;
    if (has_fraction) text += "." + fraction;
    if (has_exponent) {
      text += random() % 2 == 0 ? "e" : "E";
      if (exponent >= 0 && random() % 2 == 0) text += "+";
      text += std::to_string(exponent);
    }
    ASSERT_EQ(decimal_literal_has_at_most_2_decimals(text),
              reference_at_most_2_decimals(int_part, fraction, exponent))
        << text;
  }
}

TEST(DecimalLiteral, NeverCrashesOnRandomText) {
  std::mt19937 random(7);
  constexpr std::string_view kAlphabet = "0123456789.eE+- x";
  for (int i = 0; i < 20'000; ++i) {
    std::string text(random() % 12, ' ');
    for (char& c : text) c = kAlphabet[random() % kAlphabet.size()];
    (void)decimal_literal_has_at_most_2_decimals(text);  // only checking it is total
  }
}

}  // namespace
}  // namespace betsdb::domain
