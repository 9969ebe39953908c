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
#include <limits>
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
    const Packed* packed = tokens_.find(digest);
    return packed ? std::optional(unpack(*packed)) : std::nullopt;
  }
  // Past the capacity the cache starts over: a miss costs one indexed lookup.
  void remember(const Digest& digest, const KnownToken& known) { tokens_.put(digest, pack(known)); }
  void forget(const Digest& digest) { tokens_.erase(digest); }
  std::size_t size() const { return tokens_.size(); }

 private:
  // Every shard holds every token the process verified (they share them), so
  // an entry's size counts twice per bettor: packed, a map node is 64 bytes
  // instead of KnownToken's 96, 5 MB less for 80,000 bettors on two shards.
  struct Packed {
    std::int64_t account_id;  // the user's or the operator's
    std::int64_t expires_at_us;
    // The steady clock in seconds and 1/65536ths of one, rounded down: the
    // entry may look up to 16 us older than it is, so it is trusted a little
    // less, never more. Fine enough to tell it from when its revocation mark's
    // Redis process was reached (api/auth.cpp), often the same second.
    std::uint32_t verified_at_s;
    std::uint16_t verified_at_fraction;
    std::uint8_t kind;
    std::uint8_t role;
  };
  static_assert(sizeof(Packed) == 24);
  static constexpr std::int64_t kNoExpiry = std::numeric_limits<std::int64_t>::min();
  using Fraction = std::chrono::duration<std::int64_t, std::ratio<1, 65536>>;

  static Packed pack(const KnownToken& known) {
    const http::Principal& p = known.principal;
    const auto since_epoch = known.verified_at.time_since_epoch();
    const auto verified = std::chrono::floor<std::chrono::seconds>(since_epoch);
    const auto fraction = std::chrono::floor<Fraction>(since_epoch - verified);
    return Packed{
        p.kind == http::Principal::Kind::operator_account ? p.operator_id : p.user_id,
        known.expires_at ? known.expires_at->time_since_epoch().count() : kNoExpiry,
        static_cast<std::uint32_t>(verified.count()),
        static_cast<std::uint16_t>(fraction.count()),
        static_cast<std::uint8_t>(p.kind),
        static_cast<std::uint8_t>(p.role),
    };
  }

  static KnownToken unpack(const Packed& packed) {
    http::Principal p;
    p.kind = static_cast<http::Principal::Kind>(packed.kind);
    p.role = static_cast<http::Principal::Role>(packed.role);
    if (p.kind == http::Principal::Kind::operator_account) {
      p.operator_id = packed.account_id;
    } else {
      p.user_id = packed.account_id;
    }
    const auto verified =
        std::chrono::seconds(packed.verified_at_s) + Fraction(packed.verified_at_fraction);
    KnownToken known{p, std::nullopt,
                     std::chrono::steady_clock::time_point(
                         std::chrono::ceil<std::chrono::steady_clock::duration>(verified))};
    if (packed.expires_at_us != kNoExpiry) {
      known.expires_at = domain::Timestamp(std::chrono::microseconds(packed.expires_at_us));
    }
    return known;
  }

  // A SHA-256 digest is already uniformly distributed: any 8 of its bytes
  // make a good hash.
  struct DigestHash {
    std::size_t operator()(const Digest& d) const noexcept {
      std::size_t h;
      std::memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };

  StartOverMap<Digest, Packed, DigestHash> tokens_;
};

}  // namespace betsdb::api
