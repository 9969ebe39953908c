#include "service/key_text.hpp"

namespace betsdb::service {

void append_key_text(std::string& key, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    if (c == '%' || c == ':' || c == '{' || c == '}') {
      key += '%';
      key += kHex[static_cast<unsigned char>(c) >> 4];
      key += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      key += c;
    }
  }
}

}  // namespace betsdb::service
