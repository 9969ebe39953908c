#include "domain/timestamp.hpp"

#include <gtest/gtest.h>

#include <random>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using namespace std::chrono;
using test_support::IsValidationError;

// The instant `text` denotes, or a failed test.
Timestamp parse(std::string_view text) {
  const auto result = parse_rfc3339(text, "date");
  EXPECT_TRUE(result.ok()) << text;
  return result.ok() ? *result : Timestamp{};
}

// Parses and formats back (UTC, canonical form).
std::string canonical(std::string_view text) {
  return format_rfc3339(parse(text));
}

Timestamp utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0,
              std::int64_t us = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss} +
         microseconds{us};
}

TEST(ParseRfc3339, ReadsTheContractsExample) {
  EXPECT_EQ(parse("2026-12-01T19:45:00Z"), utc(2026, 12, 1, 19, 45));
}

TEST(ParseRfc3339, AcceptsLowerCaseSeparatorAndZulu) {
  EXPECT_EQ(parse("2026-12-01t19:45:00z"), utc(2026, 12, 1, 19, 45));
}

TEST(ParseRfc3339, AppliesOffsets) {
  EXPECT_EQ(parse("2026-12-01T20:45:00+01:00"), utc(2026, 12, 1, 19, 45));
  EXPECT_EQ(parse("2026-12-01T14:15:00-05:30"), utc(2026, 12, 1, 19, 45));
  EXPECT_EQ(parse("2026-12-01T19:45:00+00:00"), utc(2026, 12, 1, 19, 45));
  EXPECT_EQ(parse("2026-12-01T19:45:00-00:00"), utc(2026, 12, 1, 19, 45));
  EXPECT_EQ(parse("2026-12-02T09:44:00+23:59"), utc(2026, 12, 1, 9, 45));
}

TEST(ParseRfc3339, OffsetsCrossDayMonthAndYearBoundaries) {
  EXPECT_EQ(canonical("2027-01-01T00:30:00+01:00"), "2026-12-31T23:30:00Z");
  EXPECT_EQ(canonical("2024-02-28T23:00:00-02:00"), "2024-02-29T01:00:00Z");
  EXPECT_EQ(canonical("2023-02-28T23:00:00-02:00"), "2023-03-01T01:00:00Z");
}

TEST(ParseRfc3339, ReadsFractionsOfAnyLengthTruncatingBeyondMicroseconds) {
  EXPECT_EQ(parse("2026-12-01T19:45:00.5Z"), utc(2026, 12, 1, 19, 45, 0, 500'000));
  EXPECT_EQ(parse("2026-12-01T19:45:00.123456Z"), utc(2026, 12, 1, 19, 45, 0, 123'456));
  EXPECT_EQ(parse("2026-12-01T19:45:00.1234569Z"), utc(2026, 12, 1, 19, 45, 0, 123'456));
  EXPECT_EQ(parse("2026-12-01T19:45:00.999999999999999999999999Z"),
            utc(2026, 12, 1, 19, 45, 0, 999'999));
  EXPECT_EQ(parse("2026-12-01T19:45:00.000000Z"), utc(2026, 12, 1, 19, 45));
  EXPECT_EQ(parse("2026-12-01T19:45:00.000001+01:00"), utc(2026, 12, 1, 18, 45, 0, 1));
}

TEST(ParseRfc3339, ChecksTheCalendar) {
  EXPECT_EQ(parse("2024-02-29T00:00:00Z"), utc(2024, 2, 29));  // leap year
  EXPECT_EQ(parse("2000-02-29T00:00:00Z"), utc(2000, 2, 29));  // divisible by 400
  EXPECT_EQ(parse("2026-04-30T00:00:00Z"), utc(2026, 4, 30));
  EXPECT_EQ(parse("2026-12-31T23:59:59Z"), utc(2026, 12, 31, 23, 59, 59));
  constexpr std::string_view kBadDate = "is not a valid calendar date";
  for (const char* text : {"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
                           "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                           "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z"}) {
    EXPECT_TRUE(IsValidationError(parse_rfc3339(text, "date"), "date", kBadDate)) << text;
  }
}

TEST(ParseRfc3339, ChecksTheTimeOfDay) {
  constexpr std::string_view kBadTime = "is not a valid time of day";
  for (const char* text : {"2026-12-01T24:00:00Z", "2026-12-01T19:60:00Z", "2026-12-01T19:45:61Z",
                           "2026-12-01T99:99:99Z",
                           // a leap second anywhere but at the end of a UTC day
                           "2026-12-01T19:45:60Z", "2016-12-31T23:59:60+01:00"}) {
    EXPECT_TRUE(IsValidationError(parse_rfc3339(text, "from"), "from", kBadTime)) << text;
  }
}

TEST(ParseRfc3339, ReadsALeapSecondAsTheNextSecond) {
  EXPECT_EQ(parse("2016-12-31T23:59:60Z"), utc(2017, 1, 1));
  EXPECT_EQ(parse("2017-01-01T00:59:60+01:00"), utc(2017, 1, 1));  // the same second, at +01:00
}

TEST(ParseRfc3339, ChecksTheOffset) {
  constexpr std::string_view kBadOffset = "has an invalid UTC offset";
  for (const char* text : {"2026-12-01T19:45:00+24:00", "2026-12-01T19:45:00-00:60"}) {
    EXPECT_TRUE(IsValidationError(parse_rfc3339(text, "date"), "date", kBadOffset)) << text;
  }
}

TEST(ParseRfc3339, KeepsYearsWithin0001And9999EvenInUtc) {
  EXPECT_EQ(parse("0001-01-01T00:00:00Z"), utc(1, 1, 1));
  EXPECT_EQ(parse("9999-12-31T23:59:59.999999Z"), utc(9999, 12, 31, 23, 59, 59, 999'999));
  constexpr std::string_view kBadYear = "must be between years 0001 and 9999";
  for (const char* text : {"0000-01-01T00:00:00Z", "0001-01-01T00:00:00+00:01",
                           "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:60Z"}) {
    EXPECT_TRUE(IsValidationError(parse_rfc3339(text, "to"), "to", kBadYear)) << text;
  }
}

TEST(ParseRfc3339, RejectsEverythingElse) {
  constexpr std::string_view kSyntax = "must be an RFC 3339 date-time such as 2026-12-01T19:45:00Z";
  for (const char* text : {
           "",
           "2026-12-01",                  // a date alone is not a date-time
           "2026-12-01T19:45Z",           // seconds are required
           "2026-12-01T19:45:00",         // the offset is required
           "2026-12-01 19:45:00Z",        // space separator: not in the RFC's grammar
           "2026-12-01T19:45:00.Z",       // empty fraction
           "2026-12-01T19:45:00,5Z",      // ISO 8601 comma
           "2026-12-01T19:45:00+0100",    // offset without colon
           "2026-12-01T19:45:00+01",      // short offset
           "2026-12-01T19:45:00+1:00",    //
           "2026-12-01T19:45:00ZZ",       // trailing text
           "2026-12-01T19:45:00Z ",       //
           " 2026-12-01T19:45:00Z",       //
           "26-12-01T19:45:00Z",          // two-digit year
           "+2026-12-01T19:45:00Z",       // expanded year
           "12026-12-01T19:45:00Z",       //
           "2026-1-01T19:45:00Z",         // one-digit month
           "2026-12-1T19:45:00Z",         //
           "2026-12-01T9:45:00Z",         //
           "2026/12/01T19:45:00Z",        //
           "2026-12-01X19:45:00Z",        //
           "2026-12-01T19:45:00UTC",      //
           "2026-12-01T19:45:00GMT",      //
           "2026-12-01T19:45:00.5.5Z",    //
           "2026-12-01T19:45:00-",        //
           "2026-12-01T19:45:00+01:00Z",  //
           "２０２６-12-01T19:45:00Z",    // full-width digits
           "1735689600",                  // epoch seconds
       }) {
    EXPECT_TRUE(IsValidationError(parse_rfc3339(text, "date"), "date", kSyntax)) << text;
  }
}

TEST(ParseRfc3339, SurvivesTruncatedInput) {
  const std::string_view full = "2026-12-01T19:45:00.123+01:00";
  for (std::size_t n = 0; n < full.size(); ++n) {
    const auto prefix = full.substr(0, n);
    EXPECT_FALSE(parse_rfc3339(prefix, "date").ok()) << prefix;
  }
  EXPECT_TRUE(parse_rfc3339(full, "date").ok());
}

TEST(FormatRfc3339, WritesUtcWithoutFractionWhenWholeSeconds) {
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45)), "2026-12-01T19:45:00Z");
  EXPECT_EQ(format_rfc3339(utc(1970, 1, 1)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Timestamp{}), "1970-01-01T00:00:00Z");
}

TEST(FormatRfc3339, WritesTheNeededFractionDigits) {
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 500'000)), "2026-12-01T19:45:00.5Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 120'000)), "2026-12-01T19:45:00.12Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 1)), "2026-12-01T19:45:00.000001Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 10)), "2026-12-01T19:45:00.00001Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 123'456)), "2026-12-01T19:45:00.123456Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 1, 19, 45, 0, 999'999)), "2026-12-01T19:45:00.999999Z");
}

TEST(FormatRfc3339, HandlesInstantsBefore1970AndFarYears) {
  EXPECT_EQ(format_rfc3339(utc(1969, 12, 31, 23, 59, 59, 999'999)), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(utc(1, 1, 1)), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(9999, 12, 31, 23, 59, 59)), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(utc(999, 3, 4, 5, 6, 7)), "0999-03-04T05:06:07Z");
}

TEST(FormatRfc3339, NormalisesOffsetsToZ) {
  EXPECT_EQ(canonical("2026-12-01T20:45:00+01:00"), "2026-12-01T19:45:00Z");
  EXPECT_EQ(canonical("2026-12-01t19:45:00.500z"), "2026-12-01T19:45:00.5Z");
  EXPECT_EQ(canonical("2026-12-01T19:45:00.000Z"), "2026-12-01T19:45:00Z");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const char* text :
       {"2026-12-01T19:45:00Z", "2024-02-29T12:00:00.000001Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z", "1969-07-20T20:17:40.25Z"}) {
    EXPECT_EQ(canonical(text), text);
  }
}

TEST(ParseRfc3339, NeverCrashesOnRandomText) {
  std::mt19937 random(11);
  constexpr std::string_view kAlphabet = "0123456789-:.TtZz+ ";
  const std::string_view templ = "2024-02-29T23:59:60.999999999+23:59";
  for (int i = 0; i < 50'000; ++i) {
    // Mutations of a valid-looking template reach deep into the parser.
    std::string text(templ.substr(0, random() % (templ.size() + 1)));
    for (int m = static_cast<int>(random() % 4); m > 0 && !text.empty(); --m) {
      text[random() % text.size()] = kAlphabet[random() % kAlphabet.size()];
    }
    const auto result = parse_rfc3339(text, "date");
    if (result.ok()) {
      EXPECT_EQ(parse(format_rfc3339(*result)), *result) << text;
    }
  }
}

}  // namespace
}  // namespace betsdb::domain
