// Making text safe to put in JSON: every answer must be valid UTF-8, even
// when it echoes a client's malformed bytes (a query parameter's name, say).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace betsdb {

// The length of the well-formed UTF-8 sequence that starts at text[at], or 0
// when none does (`at` must be inside `text`).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) noexcept;

// Appends the well-formed sequence that starts at text[at], or U+FFFD when
// none does; returns how many bytes of `text` that took (the sequence's, or
// the one byte replaced).
std::size_t append_utf8_or_replacement(std::string& out, std::string_view text, std::size_t at);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// `text` with each ill-formed sequence replaced by U+FFFD; unchanged (and
// cheap) when it is valid already.
std::string to_valid_utf8(std::string_view text);

}  // namespace betsdb
