#include "util/json_writer.hpp"

#include <gtest/gtest.h>

namespace betsdb {
namespace {

TEST(JsonWriter, WritesNestedObjectsWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("a", std::int64_t{1})
      .key("b")
      .begin_array()
      .value("x")
      .null()
      .raw("2.10")
      .end_array()
      .field("c", true)
      .end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,2.10],"c":true})");
}

TEST(JsonWriter, EscapesControlCharactersAndQuotes) {
  std::string out;
  JsonWriter w(out);
  w.value(std::string_view("a\"b\\c\n\x01\xc3\xa9", 9));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
}

TEST(JsonWriter, EmptyContainers) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("items").begin_array().end_array().end_object();
  EXPECT_EQ(out, R"({"items":[]})");
}

}  // namespace
}  // namespace betsdb
