// Result<T>: a value or an Error, returned across layer boundaries instead of
// throwing. [[nodiscard]] so an ignored failure is a compiler warning; an
// intentional ignore is spelled `(void)call();` with a comment saying why.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "util/error.hpp"

namespace betsdb {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // clang-format off: one line per accessor
  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }
  // clang-format on

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace betsdb

// Propagates an error out of a coroutine returning awaitable<Result<U>>:
//   BETSDB_CO_TRY(auto user, co_await users.find(id));
#define BETSDB_CONCAT_IMPL(a, b) a##b
#define BETSDB_CONCAT(a, b) BETSDB_CONCAT_IMPL(a, b)
#define BETSDB_CO_TRY_IMPL(tmp, decl, expr)        \
  auto tmp = (expr);                               \
  if (!tmp.ok()) co_return std::move(tmp).error(); \
  decl = std::move(tmp).value()
#define BETSDB_CO_TRY(decl, expr) \
  BETSDB_CO_TRY_IMPL(BETSDB_CONCAT(betsdb_try_, __LINE__), decl, expr)
#define BETSDB_CO_TRY_STATUS(expr)                                         \
  do {                                                                     \
    auto betsdb_status_ = (expr);                                          \
    if (!betsdb_status_.ok()) co_return std::move(betsdb_status_).error(); \
  } while (0)
#define BETSDB_TRY(decl, expr)                                      \
  auto BETSDB_CONCAT(betsdb_try_, __LINE__) = (expr);               \
  if (!BETSDB_CONCAT(betsdb_try_, __LINE__).ok())                   \
    return std::move(BETSDB_CONCAT(betsdb_try_, __LINE__)).error(); \
  decl = std::move(BETSDB_CONCAT(betsdb_try_, __LINE__)).value()
