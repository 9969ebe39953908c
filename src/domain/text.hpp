// Normalisation and validation of the free-text fields of the contract: a user's
// email and name, a match's team names (API.md, "Users" and "Matches").
// Lengths are counted in Unicode code points, which is what a user means by
// "characters" (100 x "é" is 100 characters, 200 bytes).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace betsdb::domain {

inline constexpr std::size_t kMaxEmailLength = 254;       // RFC 5321 path limit; API.md
inline constexpr std::size_t kMaxEmailLocalLength = 64;   // RFC 5321, section 4.5.3.1.1
inline constexpr std::size_t kMaxDomainLabelLength = 63;  // RFC 1035
inline constexpr std::size_t kMaxNameLength = 100;        // API.md: name and teams 1..100 chars

// Trims ASCII whitespace, lower-cases ASCII, then requires a plain address
// (local@domain, ASCII only): at most 254 characters; exactly one '@'; a local
// part of 1..64 RFC 5322 "atext" characters and dots, no leading, trailing or
// doubled dot; a domain of at least two dot-separated labels, each 1..63 of
// [a-z0-9-] not starting or ending with '-'. Quoted local parts and IP-literal
// domains are refused on purpose: nobody signs up to a betting site with them.
// Failure: validation_failed on "email".
Result<std::string> normalize_email(std::string_view text);

// A display name (field "name") or team name ("team_1", "team_2"): trims
// whitespace at both ends (ASCII and Unicode spaces such as U+00A0), then needs
// 1..100 code points of valid UTF-8 without control characters (C0, DEL, C1).
// Inner spaces are kept as written. Failure: validation_failed on `field`.
Result<std::string> normalize_name(std::string_view text, std::string_view field);
Result<std::string> normalize_team(std::string_view text, std::string_view field);
// A match's competition ("Premier League 2025/26"): the same rules.
Result<std::string> normalize_competition(std::string_view text, std::string_view field);

// A search text (`q`): trimmed like a name, then 2..100 code points without
// control characters; one character would match nearly everything.
inline constexpr std::size_t kMinSearchLength = 2;
Result<std::string> normalize_search(std::string_view text, std::string_view field);

// Whether two (normalised) team names name the same team, ignoring case. Only
// ASCII letters are folded ("Arsenal" == "ARSENAL", but "É" != "é"): enough for
// the contract's "different (ignoring case)" check without a Unicode case table.
bool same_team(std::string_view a, std::string_view b) noexcept;

// Number of code points in valid UTF-8 (bytes that are not continuation bytes).
std::size_t utf8_length(std::string_view text) noexcept;

}  // namespace betsdb::domain
