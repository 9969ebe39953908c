// Query parameters in PostgreSQL's text format: one optional string per `$n`,
// std::nullopt meaning SQL NULL. `params(...)` converts the usual C++ values:
//
//   co_await conn.execute(kPlaceBet, pg::params(user_id, match_id, "home", stake_cents, note));
//
// integers -> decimal, bool -> "t"/"f", floating point -> the shortest text that
// round-trips, strings and string views -> copied (rvalue std::strings are moved),
// std::optional<X> -> X or NULL, std::nullopt -> NULL.
// Text values must not contain NUL bytes (libpq sends C strings).
#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace betsdb::pg {

using Param = std::optional<std::string>;
using Params = std::vector<Param>;

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// Big enough for any 64-bit integer and for the shortest round-trip text of a double.
inline constexpr std::size_t kNumberTextCapacity = 32;

template <class T>
Param to_param(T&& value) {
  using V = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<V, std::nullopt_t>) {
    return std::nullopt;
  } else if constexpr (is_optional<V>::value) {
    if (!value.has_value()) return std::nullopt;
    return to_param(*std::forward<T>(value));
  } else if constexpr (std::is_same_v<V, bool>) {
    return std::string(value ? "t" : "f");
  } else if constexpr (std::is_same_v<V, std::string>) {
    return std::string(std::forward<T>(value));  // moves an rvalue, copies an lvalue
  } else if constexpr (std::is_convertible_v<T, std::string_view>) {
    return std::string(std::string_view(value));
  } else if constexpr (std::is_integral_v<V> || std::is_floating_point_v<V>) {
    static_assert(!std::is_same_v<V, char>, "pass a char as a std::string_view of length 1");
    char buffer[kNumberTextCapacity];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, end);
  } else {
    static_assert(sizeof(V) == 0, "pg::params: no text conversion for this type");
  }
}

}  // namespace detail

template <class... T>
Params params(T&&... values) {
  Params out;
  out.reserve(sizeof...(T));
  (out.push_back(detail::to_param(std::forward<T>(values))), ...);
  return out;
}

// A PostgreSQL array literal of `items`, each written by `text` (which must
// give text that needs no quoting: numbers, fixed codes, NULL): "{1,2,3}".
// One prepared statement then serves any number of items.
template <class Item, class Text>
std::string array_literal(std::span<const Item> items, Text text) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += text(items[i]);
  }
  out += '}';
  return out;
}

// A LIKE pattern matching any text that contains `text` literally: its
// '%', '_' and backslashes are escaped (backslash is LIKE's escape by default).
inline std::string like_containing(std::string_view text) {
  std::string out = "%";
  out.reserve(text.size() + 2);
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

// The same for text that starts with `text`.
inline std::string like_prefix(std::string_view text) {
  std::string out = like_containing(text);
  out.erase(0, 1);
  return out;
}

}  // namespace betsdb::pg
