#include "domain/text.hpp"

#include <cstdint>
#include <iterator>
#include <optional>

namespace betsdb::domain {

namespace {

constexpr std::string_view kNotAnEmail = "must be an email address such as ann@example.com";
constexpr std::string_view kEmailTooLong = "must be at most 254 characters";
constexpr std::string_view kEmailField = "email";
constexpr std::string_view kNameEmpty = "must not be empty";
constexpr std::string_view kNameTooLong = "must be at most 100 characters";
constexpr std::string_view kNotUtf8 = "must be valid UTF-8";
constexpr std::string_view kControl = "must not contain control characters";

bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool is_lower_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext (letters are already lower-cased).
bool is_atext(char c) noexcept {
  return is_lower_alnum(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string_view trim_ascii(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

bool valid_local_part(std::string_view local) noexcept {
  if (local.empty() || local.size() > kMaxEmailLocalLength) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  for (char c : local) {
    if (c != '.' && !is_atext(c)) return false;
  }
  return true;
}

bool valid_label(std::string_view label) noexcept {
  if (label.empty() || label.size() > kMaxDomainLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (c != '-' && !is_lower_alnum(c)) return false;
  }
  return true;
}

bool valid_domain(std::string_view domain) noexcept {
  if (domain.find('.') == std::string_view::npos) return false;
  while (true) {
    const auto dot = domain.find('.');
    if (!valid_label(domain.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    domain.remove_prefix(dot + 1);
  }
}

// One strictly decoded code point: no overlong forms, no surrogates, <= U+10FFFF.
struct Decoded {
  char32_t code_point;
  std::size_t size;  // bytes
};

std::optional<Decoded> decode_utf8(std::string_view s, std::size_t pos) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[pos + k]); };
  const auto continuation = [&](std::size_t k) {
    return pos + k < s.size() && (byte(k) & 0xC0) == 0x80;
  };
  const std::uint8_t lead = byte(0);
  if (lead < 0x80) return Decoded{lead, 1};
  // Per sequence length: the lead byte's pattern, its payload bits, and the
  // smallest code point that needs that many bytes (smaller ones are overlong).
  struct Form {
    std::uint8_t mask, pattern, payload;
    char32_t min;
  };
  constexpr Form kForms[] = {
      {0xE0, 0xC0, 0x1F, 0x80}, {0xF0, 0xE0, 0x0F, 0x800}, {0xF8, 0xF0, 0x07, 0x10000}};
  std::size_t size = 0;
  char32_t cp = 0;
  char32_t min = 0;
  for (std::size_t f = 0; f < std::size(kForms); ++f) {
    if ((lead & kForms[f].mask) == kForms[f].pattern) {
      size = f + 2;
      cp = lead & kForms[f].payload;
      min = kForms[f].min;
      break;
    }
  }
  if (size == 0) return std::nullopt;
  for (std::size_t k = 1; k < size; ++k) {
    if (!continuation(k)) return std::nullopt;
    cp = (cp << 6) | (byte(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return Decoded{cp, size};
}

// Unicode White_Space (PropList.txt).
bool is_unicode_space(char32_t cp) noexcept {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// General category Cc: C0, DEL, C1.
bool is_control(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

Result<std::string> normalize_display_text(std::string_view text, std::string_view field) {
  // First pass: validate, and find the code points that survive trimming.
  std::size_t begin = text.size();
  std::size_t end = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto decoded = decode_utf8(text, pos);
    if (!decoded) return Error::validation(std::string(field), std::string(kNotUtf8));
    if (!is_unicode_space(decoded->code_point)) {
      if (begin == text.size()) begin = pos;
      end = pos + decoded->size;
    }
    pos += decoded->size;
  }
  if (begin >= end) return Error::validation(std::string(field), std::string(kNameEmpty));
  const std::string_view trimmed = text.substr(begin, end - begin);

  std::size_t length = 0;
  for (std::size_t pos = 0; pos < trimmed.size();) {
    const auto decoded = decode_utf8(trimmed, pos);  // valid: checked above
    if (is_control(decoded->code_point)) {
      return Error::validation(std::string(field), std::string(kControl));
    }
    pos += decoded->size;
    ++length;
  }
  if (length > kMaxNameLength) {
    return Error::validation(std::string(field), std::string(kNameTooLong));
  }
  return std::string(trimmed);
}

}  // namespace

Result<std::string> normalize_email(std::string_view text) {
  const std::string_view trimmed = trim_ascii(text);
  std::string email;
  email.reserve(trimmed.size());
  for (char c : trimmed) email += ascii_lower(c);

  if (email.size() > kMaxEmailLength) {
    return Error::validation(std::string(kEmailField), std::string(kEmailTooLong));
  }
  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos ||
      !valid_local_part(std::string_view(email).substr(0, at)) ||
      !valid_domain(std::string_view(email).substr(at + 1))) {
    return Error::validation(std::string(kEmailField), std::string(kNotAnEmail));
  }
  return email;
}

Result<std::string> normalize_name(std::string_view text, std::string_view field) {
  return normalize_display_text(text, field);
}

Result<std::string> normalize_team(std::string_view text, std::string_view field) {
  return normalize_display_text(text, field);
}

Result<std::string> normalize_competition(std::string_view text, std::string_view field) {
  return normalize_display_text(text, field);
}

Result<std::string> normalize_search(std::string_view text, std::string_view field) {
  auto normalized = normalize_display_text(text, field);
  if (normalized.ok() && utf8_length(*normalized) < kMinSearchLength) {
    return Error::validation(std::string(field), "must be at least 2 characters");
  }
  return normalized;
}

bool same_team(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<std::uint8_t>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace betsdb::domain
