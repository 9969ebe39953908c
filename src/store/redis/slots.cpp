#include "store/redis/slots.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

namespace betsdb::redis {

namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the
// specification's reference implementation.
constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint16_t, 256> kCrcTable = make_table();

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// Commands betsdb sends (or tools may) that name no key.
constexpr std::string_view kKeyless[] = {
    "PING",     "INFO",   "SCAN",   "CLUSTER", "ASKING", "READONLY", "SCRIPT", "FLUSHDB",
    "FLUSHALL", "DBSIZE", "CONFIG", "CLIENT",  "TIME",   "WAIT",     "SELECT", "AUTH",
    "HELLO",    "DEBUG",  "KEYS",   "ECHO",    "MULTI",  "EXEC",     "DISCARD"};

bool is_eval(std::string_view name) noexcept {
  for (std::string_view e : {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}) {
    if (equals_ignoring_case(name, e)) return true;
  }
  return false;
}

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

std::string_view hash_tag(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) noexcept {
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) % kClusterSlots);
}

std::optional<std::string_view> first_key(std::span<const std::string_view> argv) noexcept {
  if (argv.size() < 2) return std::nullopt;
  const std::string_view name = argv[0];
  if (is_eval(name)) {
    // EVALSHA sha numkeys key [key ...] arg [arg ...]
    if (argv.size() < 4) return std::nullopt;
    std::size_t keys = 0;
    const std::string_view count = argv[2];
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), keys);
    if (ec != std::errc{} || end != count.data() + count.size() || keys == 0) return std::nullopt;
    return argv[3];
  }
  if (equals_ignoring_case(name, "XREAD") || equals_ignoring_case(name, "XREADGROUP")) {
    // XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      if (equals_ignoring_case(argv[i], "STREAMS")) return argv[i + 1];
    }
    return std::nullopt;
  }
  if (equals_ignoring_case(name, "XINFO")) {
    // XINFO STREAM|GROUPS|CONSUMERS key ...
    if (argv.size() < 3) return std::nullopt;
    return argv[2];
  }
  for (std::string_view keyless : kKeyless) {
    if (equals_ignoring_case(name, keyless)) return std::nullopt;
  }
  return argv[1];
}

std::string_view slot_tag(std::uint16_t slot) {
  static const std::vector<std::string> tags = [] {
    std::vector<std::string> table(kClusterSlots);
    std::size_t filled = 0;
    // About 170,000 numbers fill every slot (the coupon collector's bound).
    for (std::uint64_t n = 0; filled < kClusterSlots; ++n) {
      std::string tag = std::to_string(n);
      std::string& at = table[key_slot(tag)];
      if (!at.empty()) continue;
      at = std::move(tag);
      ++filled;
    }
    return table;
  }();
  return tags[slot % kClusterSlots];
}

}  // namespace betsdb::redis
