#include "util/json_writer.hpp"

#include "util/utf8.hpp"

namespace betsdb {

void JsonWriter::append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Stored text is valid UTF-8 already (checked on input); repair anything
  // else rather than emit invalid JSON.
  const std::string repaired = is_valid_utf8(text) ? std::string() : to_valid_utf8(text);
  const std::string_view s = repaired.empty() ? text : std::string_view(repaired);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;  // UTF-8 passes through; inputs were validated as UTF-8
        }
    }
  }
}

}  // namespace betsdb
