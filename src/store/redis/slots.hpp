// Redis Cluster key slots (the Redis Cluster specification, "Keys distribution
// model"): CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
//
// A hash tag is the part between the first '{' and the first '}' after it,
// when that part is not empty: "cart:{42}" and "cart:{42}:seq" share a slot,
// so one script may touch both. Everything that must be atomic shares a tag;
// docs/operations.md ("Redis Cluster") lists the key layout and its tags.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace betsdb::redis {

inline constexpr std::uint16_t kClusterSlots = 16384;

std::uint16_t crc16(std::string_view data) noexcept;

// The part of `key` that decides its slot: the hash tag, or the whole key.
std::string_view hash_tag(std::string_view key) noexcept;

std::uint16_t key_slot(std::string_view key) noexcept;

// A short hash tag whose slot is `slot` (the decimal number with the lowest
// value that hashes there), for a key that must live in a given slot rather
// than beside a given key. The table is built on first use (a few ms).
std::string_view slot_tag(std::uint16_t slot);

// The first key a command names, by the rules of the commands betsdb sends:
// the argument after the name for key commands, the first of KEYS for the
// EVAL family, the first after STREAMS for XREAD, none for commands without keys (PING, INFO, SCAN,
// CLUSTER...).
std::optional<std::string_view> first_key(std::span<const std::string_view> argv) noexcept;

}  // namespace betsdb::redis
