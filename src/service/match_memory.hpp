// Matches as this shard last read them from PostgreSQL, so that placing a bet
// or adding a cart item usually needs no query for its match.
//
// What a remembered match can be trusted for: its teams and date never change
// (no route changes them) and a settled match never reopens. Its odds and its
// status can change, through any instance. So a remembered match is used in
// one of two ways:
// - as a hint the database re-checks: placement validates every item again in
//   its own statement, under FOR SHARE (store/pg/bet_store.cpp), and a hint
//   that would refuse is read again before refusing;
// - only while the matches' cache generation it was read under is still the
//   current one: the cart's add script compares that generation atomically
//   with its write (service/cart.cpp), and every change to a match bumps it.
//
// Not thread-safe: one per shard, used from its thread only.
#pragma once

#include <cstdint>
#include <string>

#include "domain/entities.hpp"
#include "util/start_over_map.hpp"

namespace betsdb::service {

class MatchMemory final {
 public:
  struct Entry {
    domain::Match match;
    // The matches' generation read before the match was loaded; empty when
    // unknown (the entry is then only a hint).
    std::string generation;
  };

  const Entry* find(std::int64_t match_id) const { return entries_.find(match_id); }
  void remember(domain::Match match, std::string generation);

 private:
  // A few MB at most; past it the memory starts over (a miss costs one query).
  static constexpr std::size_t kMaxRememberedMatches = 20'000;
  StartOverMap<std::int64_t, Entry> entries_{kMaxRememberedMatches};
};

}  // namespace betsdb::service
