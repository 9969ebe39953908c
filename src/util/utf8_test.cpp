#include "util/utf8.hpp"

#include <gtest/gtest.h>

namespace betsdb {
namespace {

TEST(Utf8, ValidTextIsKeptAsIs) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("M\xC3\xBCnchen \xE2\x82\xAC \xF0\x9F\x8F\x86"));
  EXPECT_EQ(to_valid_utf8("M\xC3\xBCnchen"), "M\xC3\xBCnchen");
}

TEST(Utf8, IllFormedBytesBecomeReplacementCharacters) {
  EXPECT_FALSE(is_valid_utf8("lim\x90t"));
  EXPECT_EQ(to_valid_utf8("lim\x90t"), "lim\xEF\xBF\xBDt");
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // cut short
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xE2\x82 and \xFF")));
}

}  // namespace
}  // namespace betsdb
