// Bearer-token authentication and the route guards built on it.
//
// The admin token (the owner's) comes from configuration (with, while it is
// rotated, the previous one) and is compared by digest in constant time.
// Users' and operators' tokens (sign-up tokens and sessions) are looked up by
// SHA-256 digest; a verified digest is remembered (api/verified_tokens.hpp)
// and shared with the other shards, so a token costs one database round trip
// per process, not one per request. Tokens can be revoked anywhere: each use
// of a remembered token checks its revocation mark in Redis (one EXISTS), and
// an entry is trusted for service::kTokenTrust at most before the database is
// asked again. A mark cannot arrive late the way a message could: it is set
// before the revoking request is answered, and read by the next use. Nor
// can a lost one let a token back in: "no mark" counts only from a Redis
// process that was answering for the mark before the token was verified
// (service::RevocationCheck).
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

// The token of an "Authorization: Bearer <token>" header; nullopt when the
// header is absent, empty when it is there but not of that form.
std::optional<std::string_view> bearer_token(const http::Request& request);

// The account a principal's revocation marks are filed under: a user's id
// (the hash tag of the user's other keys) or "operator:<id>".
std::string revocation_account(const http::Principal& principal);

class Authenticator final {
 public:
  // Told of every token this shard verified in the database, to pass it on.
  using VerifiedListener = std::function<void(const Digest&, const KnownToken&)>;

  // `ctx` must outlive the authenticator.
  Authenticator(AdminTokens admin, service::Context& ctx);

  // anonymous without an Authorization header; 401 for a malformed or unknown token.
  boost::asio::awaitable<Result<http::Principal>> authenticate(const http::Request& request);

  // A token another shard verified.
  void adopt(const Digest& digest, const KnownToken& known) { verified_.remember(digest, known); }
  // A token this shard saw revoked.
  void forget(const Digest& digest) { verified_.forget(digest); }
  void on_verified(VerifiedListener listener) { on_verified_ = std::move(listener); }

 private:
  Digest admin_digest_;
  std::optional<Digest> previous_admin_digest_;
  service::Context& ctx_;
  VerifiedTokens verified_;
  VerifiedListener on_verified_;
};

// Guards, in the contract's words. Each fills Request::principal; each is
// 401 for an anonymous caller (but `anyone`) and 403 for one without the right.
http::Guard anyone(Authenticator& auth);          // public; a bad token is still 401
http::Guard admin_only(Authenticator& auth);      // the owner or an admin operator
http::Guard trader(Authenticator& auth);          // matches and exposure: admin or trader
http::Guard account_reader(Authenticator& auth);  // any user's data: admin or support
// The user of path id 0 themself, or staff who may read accounts.
http::Guard self_or_account_reader(Authenticator& auth);
// The user of path id 0 themself, never staff (their limits and pauses).
http::Guard account_holder(Authenticator& auth);
http::Guard owner_only(Authenticator& auth);  // the user of path id 0 themself (carts)
// The operator of path id 0 themself, or the owner or an admin operator.
http::Guard operator_self_or_admin(Authenticator& auth);
http::Guard signed_in(Authenticator& auth);  // anyone with a valid token
http::Guard bettor(Authenticator& auth);     // any user; staff 403 (placing bets)

}  // namespace betsdb::api
