// The RESP wire format. Commands are encoded here (binary-safe: every
// argument goes out with its length; hiredis's formatter spent more time in
// sprintf than in the rest of the encoding), and replies are parsed by
// hiredis's incremental redisReader. This file owns the hiredis handles (RAII)
// so nothing else touches hiredis memory management.
//
// Thread-safety: none of these types are shared; use each from one thread.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/reply.hpp"
#include "util/result.hpp"

struct redisReader;  // hiredis

namespace betsdb::redis {

// Anything a command argument can be taken from without a copy: std::string,
// std::string_view, string literals.
template <class T>
concept CommandArg = std::convertible_to<const T&, std::string_view>;

// One command in wire form. A default-constructed one is empty and stands
// for "nothing valid to send".
class EncodedCommand final {
 public:
  EncodedCommand() noexcept = default;
  explicit EncodedCommand(std::string wire) noexcept : wire_(std::move(wire)) {}

  std::string_view view() const noexcept { return wire_; }
  bool empty() const noexcept { return wire_.empty(); }

 private:
  std::string wire_;
};

// Encodes argv[0..argc). An empty command is refused: Redis would send no reply to
// it, which would put every later reply out of step with its waiter.
Result<EncodedCommand> encode_command(const char* const* argv, const std::size_t* lengths,
                                      std::size_t argc);

// Encodes any range of things convertible to std::string_view (std::string,
// std::string_view, string literals) without copying the arguments.
template <class Range>
Result<EncodedCommand> encode_command(const Range& args) {
  // Nearly every command this service sends has a handful of arguments; only
  // long ones (e.g. EVAL with many keys) pay for a heap-allocated argv.
  constexpr std::size_t kInlineArgs = 16;
  const std::size_t argc = std::size(args);
  std::array<const char*, kInlineArgs> inline_ptrs;
  std::array<std::size_t, kInlineArgs> inline_lengths;
  std::vector<const char*> heap_ptrs;
  std::vector<std::size_t> heap_lengths;
  const char** ptrs = inline_ptrs.data();
  std::size_t* lengths = inline_lengths.data();
  if (argc > kInlineArgs) {
    heap_ptrs.resize(argc);
    heap_lengths.resize(argc);
    ptrs = heap_ptrs.data();
    lengths = heap_lengths.data();
  }
  std::size_t i = 0;
  for (const auto& arg : args) {
    const std::string_view view(arg);
    ptrs[i] = view.data();
    lengths[i] = view.size();
    ++i;
  }
  return encode_command(ptrs, lengths, argc);
}

// Appends the encoding of `args` to `out` (used to lay out a batch back-to-back).
template <class Range>
Status append_command(std::string& out, const Range& args) {
  auto encoded = encode_command(args);
  if (!encoded.ok()) return std::move(encoded).error();
  out.append(encoded->view());
  return {};
}

// Incremental reply parser: feed bytes as they arrive, take complete replies out.
class ReplyReader final {
 public:
  ReplyReader();  // throws std::bad_alloc if hiredis cannot allocate
  ~ReplyReader();
  ReplyReader(ReplyReader&& other) noexcept;
  ReplyReader& operator=(ReplyReader&& other) noexcept;
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Errc::internal on a protocol error (the stream is then unusable).
  Status feed(const char* data, std::size_t size);
  // The next complete reply, nullopt if more bytes are needed, or Errc::internal on
  // a protocol error.
  Result<std::optional<Reply>> next();

 private:
  redisReader* reader_ = nullptr;
};

}  // namespace betsdb::redis
