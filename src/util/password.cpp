#include "util/password.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string>

namespace betsdb {

namespace {
// sodium_init() is idempotent and thread-safe; run it once before any call.
void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    return true;
  }();
  (void)ready;
}
}  // namespace

Result<std::string> hash_password(std::string_view password) {
  ensure_sodium();
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::internal("Argon2id could not allocate its memory.");
  }
  out.resize(out.find('\0'));
  return out;
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  ensure_sodium();
  // crypto_pwhash_str_verify wants a NUL-terminated string of bounded length.
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string hash(encoded_hash);
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// Not a hash of anything: the parameters of hash_password's hashes, a random
// salt and a random digest, which no password can be shown to produce.
// Verifying against it costs what verifying against a real hash costs, and
// making it costs nothing, where hashing a random password at start-up made
// every process touch Argon2id's 64 MiB once (its peak RSS, for nothing).
const std::string& decoy_password_hash() {
  static const std::string decoy = [] {
    ensure_sodium();
    unsigned char salt[crypto_pwhash_SALTBYTES];
    unsigned char digest[32];  // libsodium's encoded hashes carry 32 bytes
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(digest, sizeof digest);
    auto b64 = [](const unsigned char* bytes, std::size_t size) {
      const int variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
      std::string out(sodium_base64_encoded_len(size, variant), '\0');
      sodium_bin2base64(out.data(), out.size(), bytes, size, variant);
      out.resize(out.find('\0'));
      return out;
    };
    // Appended piece by piece: g++ 12 at -O2 (the TSan build) reads a chain of
    // operator+ on a short first string as an out-of-bounds copy
    // (-Warray-bounds, a false positive).
    std::string out;
    out.reserve(crypto_pwhash_STRBYTES);
    out.append(crypto_pwhash_argon2id_STRPREFIX);
    out.append("v=19$m=");
    out.append(std::to_string(crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024));
    out.append(",t=");
    out.append(std::to_string(crypto_pwhash_OPSLIMIT_INTERACTIVE));
    out.append(",p=1$");
    out.append(b64(salt, sizeof salt));
    out.append("$");
    out.append(b64(digest, sizeof digest));
    return out;
  }();
  return decoy;
}

}  // namespace betsdb
