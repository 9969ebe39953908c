// The tokens a shard has verified against PostgreSQL: SHA-256 digest -> who
// it belongs to, until when, and when it was verified.
//
// Each shard keeps its own (share-nothing: no lock on the request path), and
// a shard that verifies a token posts it to its peers (app/shard.cpp), so a
// token costs one database round trip per process rather than one per shard.
// Tokens can be revoked: api/auth.cpp checks a revocation mark on every use
// and trusts an entry only for a while (service::kTokenTrust).
//
// Not thread-safe: one per shard, used from its thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "domain/timestamp.hpp"
#include "http/request.hpp"
#include "util/start_over_map.hpp"
#include "util/token.hpp"

namespace betsdb::api {

struct KnownToken {
  http::Principal principal;
  std::optional<domain::Timestamp> expires_at;  // sessions; sign-up tokens never expire
  std::chrono::steady_clock::time_point verified_at;
};

class VerifiedTokens final {
 public:
  explicit VerifiedTokens(std::size_t capacity) : tokens_(capacity) {}

  std::optional<KnownToken> find(const Digest& digest) const {
    const KnownToken* known = tokens_.find(digest);
    return known ? std::optional(*known) : std::nullopt;
  }
  // Past the capacity the cache starts over: a miss costs one indexed lookup.
  void remember(const Digest& digest, const KnownToken& known) { tokens_.put(digest, known); }
  void forget(const Digest& digest) { tokens_.erase(digest); }
  std::size_t size() const { return tokens_.size(); }

 private:
  // A SHA-256 digest is already uniformly distributed: any 8 of its bytes
  // make a good hash.
  struct DigestHash {
    std::size_t operator()(const Digest& d) const noexcept {
      std::size_t h;
      std::memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };

  StartOverMap<Digest, KnownToken, DigestHash> tokens_;
};

}  // namespace betsdb::api
