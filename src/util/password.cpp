#include "util/password.hpp"

#include <sodium.h>

#include <stdexcept>

#include "util/token.hpp"

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

const std::string& decoy_password_hash() {
  static const std::string decoy = [] {
    auto hashed = hash_password(generate_token());
    if (!hashed.ok()) throw std::runtime_error("cannot make the decoy password hash");
    return std::move(hashed).value();
  }();
  return decoy;
}

}  // namespace betsdb
