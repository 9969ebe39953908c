#include "api/verified_tokens.hpp"

namespace betsdb::api {

std::optional<std::int64_t> VerifiedTokens::find(const Digest& digest) const {
  auto it = users_.find(digest);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

void VerifiedTokens::remember(const Digest& digest, std::int64_t user_id) {
  if (users_.size() >= capacity_ && !users_.contains(digest)) users_.clear();
  users_.insert_or_assign(digest, user_id);
}

}  // namespace betsdb::api
