#include "util/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace betsdb {

namespace {
constexpr std::size_t kTokenBytes = 32;  // 256 bits
constexpr std::size_t kTokenChars = 43;  // base64url of 32 bytes, unpadded
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

std::string generate_token() {
  std::array<unsigned char, kTokenBytes + 1> bytes{};  // +1: pad to a multiple of 3
  if (RAND_bytes(bytes.data(), kTokenBytes) != 1) {
    // Without randomness we must not mint credentials at all.
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string out;
  out.reserve(kTokenChars + 1);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  out.resize(kTokenChars);
  return out;
}

bool looks_like_token(std::string_view token) {
  // Checked on every authenticated request: a table, not a chain of ranges.
  static constexpr auto kTokenChar = [] {
    std::array<bool, 256> table{};
    for (char c = 'A'; c <= 'Z'; ++c) table[static_cast<unsigned char>(c)] = true;
    for (char c = 'a'; c <= 'z'; ++c) table[static_cast<unsigned char>(c)] = true;
    for (char c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = true;
    table['-'] = table['_'] = true;
    return table;
  }();
  if (token.size() != kTokenChars) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return kTokenChar[static_cast<unsigned char>(c)]; });
}

Digest sha256(std::string_view data) {
  // Fetched once: with EVP_sha256() OpenSSL 3 looks the implementation up in
  // its provider store (locks, string copies) on every call.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest out{};
  unsigned int len = 0;
  if (kSha256 == nullptr ||
      EVP_Digest(data.data(), data.size(), out.data(), &len, kSha256, nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot compute SHA-256");
  }
  return out;
}

std::string to_hex(const Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digest.size() * 2, '\0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

bool constant_time_equal(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace betsdb
