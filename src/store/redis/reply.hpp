// Reply: one Redis (RESP2) reply as a plain value, detached from hiredis.
//
// A Redis *error reply* (e.g. "WRONGTYPE ...") is an ordinary Reply of type
// `error`: it says the server refused a command, not that the transport failed,
// so callers decide what it means. Accessors never throw: asking a reply for the
// wrong kind of value yields an empty/zero value, so check type() first when the
// kind is not certain.
//
// Thread-safety: a value type; const methods are safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace betsdb::redis {

class Reply final {
 public:
  enum class Type : std::uint8_t { nil, status, error, integer, string, array };

  Reply() = default;  // nil

  static Reply nil() { return Reply{}; }
  static Reply status(std::string text) { return Reply(Type::status, std::move(text)); }
  static Reply error(std::string text) { return Reply(Type::error, std::move(text)); }
  static Reply string(std::string bytes) { return Reply(Type::string, std::move(bytes)); }
  static Reply integer(std::int64_t value);
  static Reply array(std::vector<Reply> elements);

  Type type() const noexcept { return type_; }
  bool is_nil() const noexcept { return type_ == Type::nil; }
  bool is_status() const noexcept { return type_ == Type::status; }
  bool is_error() const noexcept { return type_ == Type::error; }
  bool is_integer() const noexcept { return type_ == Type::integer; }
  bool is_string() const noexcept { return type_ == Type::string; }
  bool is_array() const noexcept { return type_ == Type::array; }

  // The integer of an integer reply; 0 for any other type.
  std::int64_t as_integer() const noexcept { return integer_; }
  // The text of a status or error reply, or the bytes of a bulk string; empty otherwise.
  const std::string& as_string() const& noexcept { return text_; }
  std::string as_string() && noexcept { return std::move(text_); }
  // The elements of an array reply; empty otherwise.
  const std::vector<Reply>& elements() const& noexcept { return elements_; }
  std::vector<Reply> elements() && noexcept { return std::move(elements_); }

  // An integer reply, or a bulk string holding a base-10 int64 (what GET returns for a
  // counter); nullopt for anything else.
  std::optional<std::int64_t> to_integer() const noexcept;
  // True for the status reply "OK".
  bool is_ok() const noexcept { return type_ == Type::status && text_ == "OK"; }
  // True for an error reply whose code (first word) is `code`, e.g. has_error_code("NOSCRIPT").
  bool has_error_code(std::string_view code) const noexcept;

  // For logs and test failure messages; bulk strings are shown escaped and truncated.
  std::string describe() const;

  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Reply(Type type, std::string text) : type_(type), text_(std::move(text)) {}

  Type type_ = Type::nil;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<Reply> elements_;
};

std::string_view type_name(Reply::Type type) noexcept;

}  // namespace betsdb::redis
