#include "domain/text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::IsValidationError;

constexpr std::string_view kNotAnEmail = "must be an email address such as ann@example.com";

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

std::string email(std::string_view text) {
  const auto result = normalize_email(text);
  EXPECT_TRUE(result.ok()) << text;
  return result.ok() ? *result : std::string("<error>");
}

TEST(NormalizeEmail, TrimsAndLowerCases) {
  EXPECT_EQ(email("a@b.co"), "a@b.co");
  EXPECT_EQ(email("  Ann.Smith@Example.COM \t\r\n"), "ann.smith@example.com");
  EXPECT_EQ(email("\vX@Y.Z\f"), "x@y.z");
}

TEST(NormalizeEmail, AcceptsCommonShapes) {
  for (const char* text : {"first.last@example.com", "user+tag@sub.example.co.uk",
                           "o'brien@example.ie", "a_b-c@my-domain.example", "1234@123.example",
                           "x@a.b", "!#$%&'*+-/=?^_`{|}~@ex.am", "user@xn--bcher-kva.example"}) {
    EXPECT_TRUE(normalize_email(text).ok()) << text;
  }
}

TEST(NormalizeEmail, RejectsWhatDoesNotLookLikeAnAddress) {
  for (const char* text : {
           "",
           "   ",
           "plain",
           "@example.com",
           "ann@",
           "ann@@example.com",
           "a@b@example.com",
           "ann@example",              // the domain needs a dot
           "ann@.example.com",         // empty label
           "ann@example..com",         //
           "ann@example.com.",         //
           "ann@-example.com",         // label starts with '-'
           "ann@example-.com",         // label ends with '-'
           "ann@exa_mple.com",         //
           "ann@exam ple.com",         // inner space
           "an n@example.com",         //
           "ann\t@example.com",        // control character
           "ann@example.com\x01",      //
           "ann\x7f@example.com",      //
           ".ann@example.com",         // dot rules of the local part
           "ann.@example.com",         //
           "an..n@example.com",        //
           "\"ann\"@example.com",      // quoted local parts are refused
           "ann@[127.0.0.1]",          // and IP literals
           "ann,bob@example.com",      //
           "<ann@example.com>",        //
           "Ann <ann@example.com>",    //
           "jos\xc3\xa9@example.com",  // non-ASCII
           "ann@ex\xc3\xa4mple.com",   //
       }) {
    EXPECT_TRUE(IsValidationError(normalize_email(text), "email", kNotAnEmail)) << text;
  }
}

TEST(NormalizeEmail, LimitsTheLocalPartTo64) {
  EXPECT_TRUE(normalize_email(repeat("a", 64) + "@example.com").ok());
  EXPECT_TRUE(
      IsValidationError(normalize_email(repeat("a", 65) + "@example.com"), "email", kNotAnEmail));
}

TEST(NormalizeEmail, LimitsLabelsTo63) {
  EXPECT_TRUE(normalize_email("a@" + repeat("b", 63) + ".com").ok());
  EXPECT_FALSE(normalize_email("a@" + repeat("b", 64) + ".com").ok());
}

TEST(NormalizeEmail, LimitsTheWholeAddressTo254AfterTrimming) {
  // Three 62-character labels: every part is valid on its own, only the total counts.
  const std::string local = repeat("a", 64);
  const std::string domain = repeat("d", 62) + "." + repeat("e", 62) + "." + repeat("f", 62);
  const std::string at_limit = local + "@" + domain + "x";  // last label 63
  ASSERT_EQ(at_limit.size(), 254u);
  EXPECT_EQ(email("  " + at_limit + "  "), at_limit);
  const std::string over = local + "@" + domain + ".g";
  ASSERT_EQ(over.size(), 255u);
  EXPECT_TRUE(IsValidationError(normalize_email(over), "email", "must be at most 254 characters"));
}

TEST(NormalizeName, TrimsAndKeepsInnerText) {
  const auto name = normalize_name("  Ann  Lee \t", "name");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "Ann  Lee");
}

TEST(NormalizeName, TrimsUnicodeSpaces) {
  // U+00A0 no-break space, U+3000 ideographic space, U+2009 thin space.
  const auto name = normalize_name("\xc2\xa0\xe3\x80\x80Zo\xc3\xab\xe2\x80\x89", "name");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "Zo\xc3\xab");
}

TEST(NormalizeName, NeedsAtLeastOneCharacter) {
  for (const char* text : {"", " ", "\t\n", "\xc2\xa0"}) {
    EXPECT_TRUE(IsValidationError(normalize_name(text, "name"), "name", "must not be empty"))
        << text;
  }
}

TEST(NormalizeName, CountsCodePointsNotBytes) {
  EXPECT_TRUE(normalize_name(repeat("a", 100), "name").ok());
  EXPECT_TRUE(IsValidationError(normalize_name(repeat("a", 101), "name"), "name",
                                "must be at most 100 characters"));
  const std::string e_acute = "\xc3\xa9";        // é, 2 bytes
  const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, 4 bytes
  EXPECT_TRUE(normalize_name(repeat(e_acute, 100), "name").ok());
  EXPECT_FALSE(normalize_name(repeat(e_acute, 101), "name").ok());
  EXPECT_TRUE(normalize_name(repeat(emoji, 100), "name").ok());
  EXPECT_FALSE(normalize_name(repeat(emoji, 101), "name").ok());
  EXPECT_TRUE(normalize_name("  " + repeat(e_acute, 100) + "  ", "name").ok());
}

TEST(NormalizeName, RejectsControlCharacters) {
  constexpr std::string_view kControl = "must not contain control characters";
  for (const std::string& text : {std::string("Ann\nLee"), std::string("Ann\tLee"),
                                  std::string("A\x7f"), std::string("A\xc2\x85Z"),  // U+0085 NEL
                                  std::string("A\xc2\x9f"), std::string("A\0B", 3)}) {
    EXPECT_TRUE(IsValidationError(normalize_name(text, "name"), "name", kControl)) << text;
  }
}

TEST(NormalizeName, RejectsInvalidUtf8) {
  constexpr std::string_view kUtf8 = "must be valid UTF-8";
  for (const char* text : {
           "\xff",              // never valid
           "A\xc3",             // truncated sequence
           "\xc3\x28",          // bad continuation
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\xaf",      // overlong
           "\xed\xa0\x80",      // surrogate U+D800
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\x80",              // lone continuation
       }) {
    EXPECT_TRUE(IsValidationError(normalize_name(text, "name"), "name", kUtf8)) << text;
  }
}

TEST(NormalizeTeam, FollowsTheNameRulesOnItsField) {
  const auto team = normalize_team("  Arsenal ", "team_1");
  ASSERT_TRUE(team.ok());
  EXPECT_EQ(*team, "Arsenal");
  EXPECT_TRUE(IsValidationError(normalize_team(" ", "team_2"), "team_2", "must not be empty"));
  EXPECT_TRUE(normalize_team(repeat("\xc3\xa9", 100), "team_1").ok());
  EXPECT_TRUE(IsValidationError(normalize_team(repeat("\xc3\xa9", 101), "team_1"), "team_1",
                                "must be at most 100 characters"));
  EXPECT_EQ(*normalize_team("Bayern M\xc3\xbcnchen", "team_1"), "Bayern M\xc3\xbcnchen");
}

TEST(NormalizeSearch, NeedsTwoCharactersAfterTrimming) {
  EXPECT_EQ(*normalize_search("  ar ", "q"), "ar");
  EXPECT_EQ(*normalize_search("é1", "q"), "é1");  // code points, not bytes
  for (std::string_view too_short : {"", "a", "  a  ", "é"}) {
    const auto refused = normalize_search(too_short, "q");
    ASSERT_FALSE(refused.ok()) << too_short;
    EXPECT_EQ(refused.error().field_errors.front().field, "q");
  }
  EXPECT_FALSE(normalize_search("ab\x01", "q").ok());
  EXPECT_TRUE(normalize_search(std::string(100, 'x'), "q").ok());
  EXPECT_FALSE(normalize_search(std::string(101, 'x'), "q").ok());
}

TEST(NormalizeCompetition, FollowsTheNameRules) {
  EXPECT_EQ(*normalize_competition(" Premier League 2025/26 ", "competition"),
            "Premier League 2025/26");
  EXPECT_FALSE(normalize_competition("   ", "competition").ok());
  EXPECT_FALSE(normalize_competition(std::string(101, 'x'), "competition").ok());
}

TEST(SameTeam, IgnoresAsciiCase) {
  EXPECT_TRUE(same_team("Arsenal", "arsenal"));
  EXPECT_TRUE(same_team("ARSENAL", "Arsenal"));
  EXPECT_TRUE(same_team("", ""));
  EXPECT_FALSE(same_team("Arsenal", "Chelsea"));
  EXPECT_FALSE(same_team("Arsenal", "Arsenal FC"));
  EXPECT_FALSE(same_team("Arsenal", "Arsena"));
  EXPECT_TRUE(same_team("Bayern M\xc3\xbcnchen", "BAYERN M\xc3\xbcNCHEN"));
  // Only ASCII is folded: "Ü" and "ü" differ.
  EXPECT_FALSE(same_team("M\xc3\x9c", "M\xc3\xbc"));
  // '@' and '`' sit next to 'A' and 'a' but are not letters.
  EXPECT_FALSE(same_team("@", "`"));
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9"), 1u);
  EXPECT_EQ(utf8_length("Zo\xc3\xab"), 3u);
  EXPECT_EQ(utf8_length("\xe2\x82\xac"), 1u);      // €
  EXPECT_EQ(utf8_length("\xf0\x9f\x98\x80"), 1u);  // U+1F600
  EXPECT_EQ(utf8_length(repeat("\xc3\xa9", 100)), 100u);
}

TEST(Normalize, NeverCrashesOnRandomBytes) {
  std::mt19937 random(3);
  for (int i = 0; i < 20'000; ++i) {
    std::string text(random() % 16, ' ');
    for (char& c : text) c = static_cast<char>(random() % 256);
    const auto name = normalize_name(text, "name");
    if (name.ok()) {
      EXPECT_GE(utf8_length(*name), 1u);
      EXPECT_TRUE(normalize_name(*name, "name").ok());  // idempotent
    }
    const auto address = normalize_email(text);
    if (address.ok()) {
      EXPECT_EQ(*normalize_email(*address), *address);
    }
  }
}

}  // namespace
}  // namespace betsdb::domain
