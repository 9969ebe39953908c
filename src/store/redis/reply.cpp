#include "store/redis/reply.hpp"

#include <charconv>

namespace betsdb::redis {

namespace {
// describe() is for humans reading logs: a cached JSON blob need not be shown whole.
constexpr std::size_t kDescribeMaxBytes = 64;

void append_escaped(std::string& out, std::string_view bytes) {
  constexpr char kHex[] = "0123456789abcdef";
  for (const char c : bytes.substr(0, kDescribeMaxBytes)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  if (bytes.size() > kDescribeMaxBytes) out += "...";
}
}  // namespace

Reply Reply::integer(std::int64_t value) {
  Reply r;
  r.type_ = Type::integer;
  r.integer_ = value;
  return r;
}

Reply Reply::array(std::vector<Reply> elements) {
  Reply r;
  r.type_ = Type::array;
  r.elements_ = std::move(elements);
  return r;
}

std::optional<std::int64_t> Reply::to_integer() const noexcept {
  if (type_ == Type::integer) return integer_;
  if (type_ != Type::string || text_.empty()) return std::nullopt;
  std::int64_t value = 0;
  const char* end = text_.data() + text_.size();
  const auto [ptr, ec] = std::from_chars(text_.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

bool Reply::has_error_code(std::string_view code) const noexcept {
  if (type_ != Type::error) return false;
  const std::string_view text = text_;
  return text.starts_with(code) && (text.size() == code.size() || text[code.size()] == ' ');
}

std::string Reply::describe() const {
  std::string out;
  switch (type_) {
    case Type::nil:
      return "(nil)";
    case Type::integer:
      return "(integer) " + std::to_string(integer_);
    case Type::status:
      return text_;
    case Type::error:
      return "(error) " + text_;
    case Type::string:
      out += '"';
      append_escaped(out, text_);
      out += '"';
      return out;
    case Type::array:
      out += '[';
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i != 0) out += ", ";
        out += elements_[i].describe();
      }
      out += ']';
      return out;
  }
  return out;
}

std::string_view type_name(Reply::Type type) noexcept {
  switch (type) {
    case Reply::Type::nil:
      return "nil";
    case Reply::Type::status:
      return "status";
    case Reply::Type::error:
      return "error";
    case Reply::Type::integer:
      return "integer";
    case Reply::Type::string:
      return "string";
    case Reply::Type::array:
      return "array";
  }
  return "unknown";
}

}  // namespace betsdb::redis
