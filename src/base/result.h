// Result<T>: the return type of everything that can fail on outside input
// (guest, frontend, config, kernel). Modelled on SerenityOS's ErrorOr<T>.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vgpio {

class Error {
 public:
  explicit Error(std::string message, int code = 0) : message_(std::move(message)), code_(code) {}

  // The one place that turns an errno into an Error: "context: strerror (errno)".
  static Error from_errno(int err, const std::string& context);

  const std::string& message() const { return message_; }
  // The errno behind the error, or 0 when it did not come from the kernel.
  int code() const { return code_; }

  // Prefixes more context: "outer: inner".
  Error with_context(const std::string& outer) const { return Error(outer + ": " + message_, code_); }

 private:
  std::string message_;
  int code_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T release_value() {
    assert(ok());
    return std::move(std::get<0>(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error release_error() {
    assert(!ok());
    return std::move(std::get<1>(v_));
  }
  // The same result, with `context` prefixed to an error.
  Result error_context(const std::string& context) && {
    if (!ok()) return release_error().with_context(context);
    return std::move(*this);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void release_value() { assert(ok()); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }
  Error release_error() {
    assert(!ok());
    return std::move(*error_);
  }
  Result error_context(const std::string& context) && {
    if (!ok()) return release_error().with_context(context);
    return {};
  }

 private:
  std::optional<Error> error_;
};

inline Result<void> ok() { return {}; }

}  // namespace vgpio

// TRY(expr): evaluates to the value of a Result, or returns its error from the
// enclosing function. A GNU statement expression, as in SerenityOS: g++ and
// clang++ both have it, and CMakeLists.txt keeps the GNU dialect on for it
// (CMAKE_CXX_EXTENSIONS). Not in a constructor or a lambda without a Result
// return type: there is nothing to return the error from.
#define TRY(expr)                                                          \
  ({                                                                       \
    auto _vgpio_try_result = (expr);                                       \
    if (!_vgpio_try_result.ok()) return _vgpio_try_result.release_error(); \
    _vgpio_try_result.release_value();                                     \
  })
