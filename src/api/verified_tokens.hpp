// The user tokens a shard has verified against PostgreSQL: SHA-256 digest ->
// user id. Tokens are never revoked by this API, so a verified digest stays
// valid for the life of the process.
//
// Each shard keeps its own (share-nothing: no lock on the request path), and
// a shard that verifies a token posts it to its peers (app/shard.cpp), so a
// token costs one database round trip per process rather than one per shard.
//
// Not thread-safe: one per shard, used from its thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "util/start_over_map.hpp"
#include "util/token.hpp"

namespace betsdb::api {

class VerifiedTokens final {
 public:
  explicit VerifiedTokens(std::size_t capacity) : users_(capacity) {}

  std::optional<std::int64_t> find(const Digest& digest) const {
    const std::int64_t* user_id = users_.find(digest);
    return user_id ? std::optional(*user_id) : std::nullopt;
  }
  // Past the capacity the cache starts over: a miss costs one indexed lookup.
  void remember(const Digest& digest, std::int64_t user_id) { users_.put(digest, user_id); }
  std::size_t size() const { return users_.size(); }

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

  StartOverMap<Digest, std::int64_t, DigestHash> users_;
};

}  // namespace betsdb::api
