#include "api/json_input.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <cmath>
#include <limits>

#include "domain/odds.hpp"

namespace betsdb::api {

namespace json = boost::json;

namespace {

// Deep enough for any body of this API, shallow enough that hostile nesting
// costs nothing.
constexpr std::size_t kMaxDepth = 32;
// Room for the parse of a typical body before the value stack needs the heap.
constexpr std::size_t kParseBuffer = 2048;

// A basic_parser handler that builds a value like boost::json::parser does,
// but (1) keeps the literal of non-integer numbers to judge their decimals
// exactly and (2) detects duplicate keys, which boost::json silently merges.
class StrictHandler {
 public:
  static constexpr std::size_t max_object_size = 4096;
  static constexpr std::size_t max_array_size = 4096;
  static constexpr std::size_t max_key_size = 1024;
  static constexpr std::size_t max_string_size = 64 * 1024;

  // `temp` lends the stack its first buffer, so small bodies (all of this
  // API's) are built without growing it on the heap.
  StrictHandler(unsigned char* temp, std::size_t size) : stack({}, temp, size) {}

  json::value_stack stack;
  std::string number_literal;
  // Members of all objects as the parser saw them; compared afterwards with
  // the built value, where duplicate keys have collapsed into one member.
  std::size_t reported_members = 0;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack.push_object(n);
    reported_members += n;
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_literal.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_literal.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_literal.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    number_literal.append(s.data(), s.size());
    const bool exact = domain::decimal_literal_has_at_most_2_decimals(number_literal);
    number_literal.clear();
    stack.push_double(exact ? d : std::numeric_limits<double>::quiet_NaN());
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

bool media_type_is_json(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (type.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  }
  return true;
}

// Counts the members of every object in a parsed value. Depth is bounded by
// kMaxDepth, so the recursion is too.
void count_members(const json::value& v, std::size_t& members) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      ++members;
      count_members(kv.value(), members);
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) count_members(e, members);
  }
}

}  // namespace

Result<json::value> parse_json(std::string_view text, json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  unsigned char temp[kParseBuffer];
  json::basic_parser<StrictHandler> parser(options, temp, sizeof temp);
  parser.handler().stack.reset(std::move(storage));
  json::error_code ec;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::make_error_code(json::error::extra_data);
  if (ec) {
    std::string detail = "The request body is not valid JSON";
    if (ec == json::error::too_deep) detail += " (nested too deeply)";
    return Error::make(Errc::invalid_json, detail + ".");
  }
  json::value value = parser.handler().stack.release();
  std::size_t members = 0;
  count_members(value, members);
  if (members != parser.handler().reported_members) {
    return Error::make(Errc::invalid_json, "The request body repeats a key in an object.");
  }
  return value;
}

Result<json::object> json_object_body(const http::Request& request, json::storage_ptr storage) {
  auto content_type = request.header("content-type");
  if (!content_type || !media_type_is_json(*content_type)) {
    return Error::make(Errc::unsupported_media_type,
                       "Request bodies must be sent as Content-Type: application/json.");
  }
  auto value = parse_json(request.body, std::move(storage));
  if (!value.ok()) return std::move(value).error();
  if (!value->is_object()) {
    Error e = Error::validation("body", "must be a JSON object");
    return e;
  }
  return std::move(value->get_object());
}

Result<json::object> optional_json_object_body(const http::Request& request) {
  if (request.body.empty()) return json::object{};
  return json_object_body(request);
}

std::string_view json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  return std::nullopt;  // uint64 beyond int64, doubles (1000.0, 1e30), everything else
}

const json::value* FieldReader::take(std::string_view name) {
  seen_.emplace_back(name);
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &it->value();
}

void FieldReader::add_error(std::string field, std::string message) {
  errors_.push_back({std::move(field), std::move(message)});
}

std::optional<std::string> FieldReader::required_string(std::string_view name) {
  const auto* v = take(name);
  if (!v) {
    add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    add_error(std::string(name), "must be a string, not " + std::string(json_kind(*v)));
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<std::string> FieldReader::optional_string(std::string_view name) {
  if (!object_.contains(name)) {
    seen_.emplace_back(name);
    return std::nullopt;
  }
  return required_string(name);
}

std::optional<std::int64_t> FieldReader::required_integer(std::string_view name) {
  const auto* v = take(name);
  if (!v) {
    add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (v->is_uint64() ||
      (v->is_double() && std::isfinite(v->get_double()) && std::abs(v->get_double()) >= 9.2e18)) {
    add_error(std::string(name), "is out of range");
    return std::nullopt;
  }
  auto i = as_integer(*v);
  if (!i) {
    add_error(std::string(name), v->is_number()
                                     ? std::string("must be an integer (minor units)")
                                     : "must be an integer, not " + std::string(json_kind(*v)));
  }
  return i;
}

std::optional<std::int64_t> FieldReader::optional_integer(std::string_view name) {
  if (!object_.contains(name)) {
    seen_.emplace_back(name);
    return std::nullopt;
  }
  return required_integer(name);
}

std::optional<bool> FieldReader::optional_boolean(std::string_view name) {
  if (!object_.contains(name)) {
    seen_.emplace_back(name);
    return std::nullopt;
  }
  const auto* v = take(name);
  if (!v || !v->is_bool()) {
    add_error(std::string(name), "must be true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

const json::object* FieldReader::required_object(std::string_view name) {
  const auto* v = take(name);
  if (!v) {
    add_error(std::string(name), "is required");
    return nullptr;
  }
  if (!v->is_object()) {
    add_error(std::string(name), "must be an object, not " + std::string(json_kind(*v)));
    return nullptr;
  }
  return &v->get_object();
}

const json::object* FieldReader::optional_object(std::string_view name) {
  if (!object_.contains(name)) {
    seen_.emplace_back(name);
    return nullptr;
  }
  return required_object(name);
}

const json::value* FieldReader::optional_value(std::string_view name) {
  return take(name);
}

std::optional<std::optional<std::int64_t>> FieldReader::optional_nullable_integer(
    std::string_view name) {
  const auto* v = object_.if_contains(name);
  if (v != nullptr && v->is_null()) {
    seen_.emplace_back(name);
    return std::optional<std::int64_t>{};
  }
  if (v == nullptr) {
    seen_.emplace_back(name);
    return std::nullopt;
  }
  auto value = required_integer(name);
  if (!value) return std::nullopt;
  return std::optional<std::int64_t>{*value};
}

std::optional<std::optional<std::string>> FieldReader::optional_nullable_string(
    std::string_view name) {
  const auto* v = object_.if_contains(name);
  if (v != nullptr && v->is_null()) {
    seen_.emplace_back(name);
    return std::optional<std::string>{};
  }
  if (v == nullptr) {
    seen_.emplace_back(name);
    return std::nullopt;
  }
  auto value = optional_string(name);
  if (!value) return std::nullopt;
  return std::optional<std::string>{std::move(*value)};
}

void FieldReader::merge(const Error& error) {
  if (error.field_errors.empty()) {
    add_error("body", error.detail);
    return;
  }
  for (const auto& fe : error.field_errors) errors_.push_back(fe);
}

Status FieldReader::finish() {
  for (const auto& kv : object_) {
    bool known = false;
    for (const auto& s : seen_) {
      if (s == kv.key()) {
        known = true;
        break;
      }
    }
    if (!known) add_error(std::string(kv.key()), "is not a known field");
  }
  if (errors_.empty()) return {};
  Error e = Error::make(Errc::validation_failed, "The request body is invalid.");
  e.field_errors = std::move(errors_);
  return e;
}

}  // namespace betsdb::api
