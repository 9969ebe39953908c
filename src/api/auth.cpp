#include "api/auth.hpp"

#include "service/users.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

namespace {
// Bounds the per-shard memory of verified tokens: about 6 MB when full.
constexpr std::size_t kMaxCachedTokens = 100'000;

Error unauthorized(std::string detail) {
  return Error::make(Errc::unauthorized, std::move(detail));
}
Error forbidden(std::string detail) {
  return Error::make(Errc::forbidden, std::move(detail));
}
}  // namespace

Authenticator::Authenticator(AdminTokens admin, service::Context& ctx)
    : admin_digest_(sha256(admin.current)), ctx_(ctx), verified_(kMaxCachedTokens) {
  if (!admin.previous.empty()) previous_admin_digest_ = sha256(admin.previous);
}

asio::awaitable<Result<http::Principal>> Authenticator::authenticate(const http::Request& request) {
  auto header = request.header("authorization");
  if (!header) co_return http::Principal{};
  std::string_view value = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) {
    co_return unauthorized("The Authorization header must be 'Bearer <token>'.");
  }
  std::string_view token = value.substr(kBearer.size());
  const Digest digest = sha256(token);
  // Both compared whatever the first gives, so the time says nothing of which.
  bool admin = constant_time_equal(digest, admin_digest_);
  if (previous_admin_digest_) admin = constant_time_equal(digest, *previous_admin_digest_) || admin;
  if (admin) co_return http::Principal{http::Principal::Kind::admin, 0};
  if (!looks_like_token(token)) co_return unauthorized("The bearer token is not valid.");
  if (auto known = verified_.find(digest)) {
    co_return http::Principal{http::Principal::Kind::user, *known};
  }
  auto id = co_await service::user_for_token(ctx_, digest);
  if (!id.ok()) co_return std::move(id).error();
  if (!*id) co_return unauthorized("The bearer token is not valid.");
  verified_.remember(digest, **id);
  if (on_verified_) on_verified_(digest, **id);
  co_return http::Principal{http::Principal::Kind::user, **id};
}

namespace {
template <class Check>
http::Guard make_guard(Authenticator& auth, Check check) {
  return [&auth, check](http::Request& request) -> asio::awaitable<Status> {
    auto principal = co_await auth.authenticate(request);
    if (!principal.ok()) co_return std::move(principal).error();
    request.principal = *principal;
    co_return check(request);
  };
}
Status require_authenticated(const http::Request& r) {
  if (r.principal.kind == http::Principal::Kind::anonymous) {
    return unauthorized("This route needs a bearer token.");
  }
  return {};
}
}  // namespace

http::Guard anyone(Authenticator& auth) {
  return make_guard(auth, [](const http::Request&) -> Status { return {}; });
}

http::Guard admin_only(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (!r.principal.is_admin()) return forbidden("Only the admin may do this.");
    return {};
  });
}

http::Guard owner_or_admin(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_admin()) return {};
    if (r.principal.user_id != r.path_ids.at(0))
      return forbidden("This resource belongs to another user.");
    return {};
  });
}

http::Guard owner_only(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_admin()) return forbidden("The admin cannot use carts.");
    if (r.principal.user_id != r.path_ids.at(0))
      return forbidden("This cart belongs to another user.");
    return {};
  });
}

http::Guard signed_in(Authenticator& auth) {
  return make_guard(auth, require_authenticated);
}

http::Guard bettor(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_admin()) return forbidden("The admin cannot place bets.");
    return {};
  });
}

}  // namespace betsdb::api
