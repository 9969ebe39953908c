// Strict JSON input for request bodies: media type, syntax, and typed field
// reading that collects every field error and rejects unknown fields, so a
// typo never silently does something else (the contract's conventions).
#pragma once

#include <boost/container/small_vector.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "util/result.hpp"

namespace betsdb::api {

// Parses JSON text. Syntax errors, invalid UTF-8, duplicate keys and nesting
// deeper than 32 levels are invalid_json. A number literal that is not an
// integer and whose value has more than two decimals is stored as NaN: no
// field of this API accepts such a value, and the literal's exact decimal
// value is otherwise lost in a binary double. The value's memory comes from
// `storage` (the heap by default).
Result<boost::json::value> parse_json(std::string_view text, boost::json::storage_ptr storage = {});

// Checks Content-Type (415) and syntax (400); a body that is not an object is 422.
Result<boost::json::object> json_object_body(const http::Request& request,
                                             boost::json::storage_ptr storage = {});
// Like json_object_body, but an empty body (any content type) is an empty object.
Result<boost::json::object> optional_json_object_body(const http::Request& request);

// Reads typed fields from a body object, collecting all problems. Field names
// are kept as views: pass names that outlive the reader (string literals).
class FieldReader final {
 public:
  explicit FieldReader(const boost::json::object& object) : object_(object) {}

  std::optional<std::string> required_string(std::string_view name);
  std::optional<std::string> optional_string(std::string_view name);
  // Integers only: 1000.0, "1000", true and null are rejected.
  std::optional<std::int64_t> required_integer(std::string_view name);
  std::optional<std::int64_t> optional_integer(std::string_view name);
  // true or false only: 1, "true" and null are rejected.
  std::optional<bool> optional_boolean(std::string_view name);
  // An object field, returned for further reading by the caller.
  const boost::json::object* required_object(std::string_view name);
  const boost::json::object* optional_object(std::string_view name);
  // Any value (nullptr when absent), for the caller to read: e.g. odds.
  const boost::json::value* optional_value(std::string_view name);
  // An integer or null (a limit and its removal): nullopt when absent or
  // invalid (then with its error recorded); a null value is an empty inner optional.
  std::optional<std::optional<std::int64_t>> optional_nullable_integer(std::string_view name);
  // The same for a string (a competition and its removal).
  std::optional<std::optional<std::string>> optional_nullable_string(std::string_view name);
  bool has(std::string_view name) const { return object_.contains(name); }

  void add_error(std::string field, std::string message);
  // Adds a domain validation error's field errors to this reader's.
  void merge(const Error& error);
  // The value of a domain validation, or nullopt with its errors recorded.
  template <class T>
  std::optional<T> check(Result<T> result) {
    if (result.ok()) return std::move(result).value();
    merge(result.error());
    return std::nullopt;
  }
  // validation_failed listing every error, including unknown fields; or ok.
  Status finish();

 private:
  const boost::json::value* take(std::string_view name);

  const boost::json::object& object_;
  boost::container::small_vector<std::string_view, 8> seen_;
  std::vector<FieldError> errors_;
};

// Shared by callers reading nested values (odds maps): integer check and message.
std::optional<std::int64_t> as_integer(const boost::json::value& v);
std::string_view json_kind(const boost::json::value& v);

}  // namespace betsdb::api
