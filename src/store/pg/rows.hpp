// Rows: the result of one statement, owning its PGresult (RAII, move-only).
//
//   for (pg::Row row : rows) {
//     auto id = row.get<std::int64_t>(0);
//     auto note = row.get<std::optional<std::string>>(1);   // NULL -> std::nullopt
//   }
//
// Columns are addressed by index in SELECT-list order; `column(name)` finds an
// index once, outside the loop. Values arrive in PostgreSQL's text format:
//   bool            "t" / "f"
//   integers        decimal (int16/int32/int64 columns)
//   floating point  float4/float8 text (not NUMERIC money: read that as a string)
//   std::string     a copy; std::string_view: a view valid while the Rows live
//   std::optional<T> std::nullopt for NULL, else T
//
// Reading NULL into a non-optional or text that does not parse as T is a bug in
// the SQL or the caller: it asserts in debug builds and yields T{} (0, false, "")
// in release builds.
//
// Thread-safety: a Rows is a plain value; const access from several threads is
// safe, anything else needs external synchronisation.
#pragma once

#include <libpq-fe.h>

#include <cassert>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace betsdb::pg {

namespace detail {
template <class T>
struct is_optional_value : std::false_type {};
template <class T>
struct is_optional_value<std::optional<T>> : std::true_type {};

// Decodes a non-NULL text value; asserts (debug) / returns T{} (release) on garbage.
template <class T>
T decode_text(std::string_view text) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return text;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(text);
  } else if constexpr (std::is_same_v<T, bool>) {
    assert((text == "t" || text == "f") && "not a boolean column");
    return text == "t";
  } else if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    assert(ec == std::errc() && end == text.data() + text.size() && "not a number of this type");
    if (ec != std::errc() || end != text.data() + text.size()) return T{};
    return value;
  } else {
    static_assert(sizeof(T) == 0, "pg::Row::get: no text decoding for this type");
  }
}
}  // namespace detail

class Row final {
 public:
  Row(const PGresult* result, int row) noexcept : result_(result), row_(row) {}

  bool is_null(int column) const noexcept {
    assert(in_range(column));
    return PQgetisnull(result_, row_, column) != 0;
  }

  // The raw text of a value ("" for NULL), valid while the Rows live.
  std::string_view text(int column) const noexcept {
    assert(in_range(column));
    return {PQgetvalue(result_, row_, column),
            static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }

  template <class T>
  T get(int column) const {
    if constexpr (detail::is_optional_value<T>::value) {
      if (is_null(column)) return std::nullopt;
      return detail::decode_text<typename T::value_type>(text(column));
    } else {
      assert(!is_null(column) && "NULL read into a non-optional; use std::optional<T>");
      return detail::decode_text<T>(text(column));
    }
  }

 private:
  bool in_range(int column) const noexcept {
    return column >= 0 && column < PQnfields(result_) && row_ < PQntuples(result_);
  }

  const PGresult* result_;
  int row_;
};

class Rows final {
 public:
  Rows() noexcept = default;
  // Takes ownership of `result` (may be null: an empty Rows).
  explicit Rows(PGresult* result) noexcept : result_(result) {}
  Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  std::size_t size() const noexcept {
    return result_ ? static_cast<std::size_t>(PQntuples(result_)) : 0;
  }
  bool empty() const noexcept { return size() == 0; }
  int columns() const noexcept { return result_ ? PQnfields(result_) : 0; }
  // The index of the column called `name` (exact, case-sensitive), or -1.
  int column(std::string_view name) const noexcept;

  // Rows changed by INSERT/UPDATE/DELETE (or returned by SELECT); 0 when not applicable.
  std::int64_t affected() const noexcept;
  // The command tag, e.g. "INSERT 0 1", "COMMIT", "ROLLBACK".
  std::string_view command() const noexcept;

  Row operator[](std::size_t row) const noexcept {
    assert(row < size());
    return Row(result_, static_cast<int>(row));
  }

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Row;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Row;

    iterator() noexcept = default;
    iterator(const PGresult* result, int row) noexcept : result_(result), row_(row) {}
    Row operator*() const noexcept { return Row(result_, row_); }
    iterator& operator++() noexcept {
      ++row_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++row_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.row_ == b.row_;
    }

   private:
    const PGresult* result_ = nullptr;
    int row_ = 0;
  };
  iterator begin() const noexcept { return iterator(result_, 0); }
  iterator end() const noexcept { return iterator(result_, static_cast<int>(size())); }

  const PGresult* native() const noexcept { return result_; }

 private:
  PGresult* result_ = nullptr;
};

}  // namespace betsdb::pg
