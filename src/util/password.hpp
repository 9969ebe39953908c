// Password hashing with Argon2id (libsodium's crypto_pwhash_str, at its
// interactive limits: 64 MiB and a few tens of milliseconds per call).
//
// Both calls are slow on purpose and must never run on a shard's event loop:
// service/password_pool.hpp runs them on worker threads.
//
// Thread-safety: both functions are safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace betsdb {

// The encoded hash ($argon2id$v=19$m=...), salt and parameters included.
// internal when libsodium cannot allocate the memory it needs.
Result<std::string> hash_password(std::string_view password);

// True when `password` matches `encoded_hash`. A malformed hash is a mismatch.
bool verify_password(std::string_view encoded_hash, std::string_view password);

// A valid hash of a password nobody knows: verified against when an email is
// unknown, so that answer costs the same time as a wrong password.
const std::string& decoy_password_hash();

}  // namespace betsdb
