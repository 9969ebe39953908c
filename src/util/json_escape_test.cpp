// append_json_escaped: what every JSON writer of the server puts between
// the quotes.
#include "util/json_escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace betsdb {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  append_json_escaped(out, text);
  return out;
}

TEST(AppendJsonEscaped, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(escaped(std::string_view("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
  EXPECT_EQ(escaped(" ~"), " ~");
}

TEST(AppendJsonEscaped, PassesWellFormedUtf8) {
  EXPECT_EQ(escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x8f\x86"),
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x8f\x86");
}

TEST(AppendJsonEscaped, ReplacesEachByteOfIllFormedUtf8) {
  // Overlong, a surrogate, above U+10FFFF, cut short; then a euro sign.
  EXPECT_EQ(
      escaped("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82|\xe2\x82\xac"),
      "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xe2\x82\xac");
}

}  // namespace
}  // namespace betsdb
