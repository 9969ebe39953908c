// Bearer-token authentication and the route guards built on it.
//
// The admin token comes from configuration (with, while it is rotated, the
// previous one) and is compared by digest in constant time. User tokens are looked up by SHA-256
// digest; a verified digest is remembered (api/verified_tokens.hpp) and shared with the other
// shards, so a token costs one database round trip per process, not one per
// request.
//
// Thread-safety: one Authenticator per shard, used on its thread only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/verified_tokens.hpp"
#include "http/router.hpp"
#include "service/context.hpp"
#include "util/token.hpp"

namespace betsdb::api {

// The admin's bearer tokens: the configured one and, while it is rotated
// out, the previous one (empty: none).
struct AdminTokens {
  std::string_view current;
  std::string_view previous;
};

class Authenticator final {
 public:
  // Told of every token this shard verified in the database, to pass it on.
  using VerifiedListener = std::function<void(const Digest&, std::int64_t user_id)>;

  // `ctx` must outlive the authenticator.
  Authenticator(AdminTokens admin, service::Context& ctx);

  // anonymous without an Authorization header; 401 for a malformed or unknown token.
  boost::asio::awaitable<Result<http::Principal>> authenticate(const http::Request& request);

  // A token another shard verified.
  void adopt(const Digest& digest, std::int64_t user_id) { verified_.remember(digest, user_id); }
  void on_verified(VerifiedListener listener) { on_verified_ = std::move(listener); }

 private:
  Digest admin_digest_;
  std::optional<Digest> previous_admin_digest_;
  service::Context& ctx_;
  VerifiedTokens verified_;
  VerifiedListener on_verified_;
};

// Guards, in the contract's words. Each fills Request::principal.
http::Guard anyone(Authenticator& auth);          // public; a bad token is still 401
http::Guard admin_only(Authenticator& auth);      // 401 anonymous, 403 users
http::Guard owner_or_admin(Authenticator& auth);  // path id 0 is the user id
http::Guard owner_only(Authenticator& auth);      // the user themself; admin 403 (carts)
http::Guard signed_in(Authenticator& auth);       // any user or the admin; 401 anonymous
http::Guard bettor(Authenticator& auth);          // any user; admin 403 (placing bets)

}  // namespace betsdb::api
