// Bearer tokens: 256 random bits, shown to the user once; only their SHA-256
// digest is stored and compared. Hashing first also makes lookups by digest
// safe against timing attacks: an attacker cannot steer the digest's prefix.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace betsdb {

using Digest = std::array<std::uint8_t, 32>;

// 32 bytes from OpenSSL's CSPRNG, base64url without padding (43 chars).
std::string generate_token();
// True if `token` has the shape generate_token() produces; cheap pre-check
// so malformed tokens are refused without touching the database.
bool looks_like_token(std::string_view token);
Digest sha256(std::string_view data);
std::string to_hex(const Digest& digest);
bool constant_time_equal(const Digest& a, const Digest& b);

}  // namespace betsdb
