#include "api/auth.hpp"

#include "service/accounts.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

namespace {
// Bounds the per-shard memory of verified tokens: about 7 MB when full (docs/operations.md).
constexpr std::size_t kMaxCachedTokens = 100'000;

Error unauthorized(std::string detail) {
  return Error::make(Errc::unauthorized, std::move(detail));
}
Error forbidden(std::string detail) {
  return Error::make(Errc::forbidden, std::move(detail));
}
Error invalid_token() {
  return unauthorized("The bearer token is not valid.");
}

http::Principal principal_of(const domain::Account& account) {
  if (!account.is_operator()) return http::Principal::user(account.id);
  using Role = http::Principal::Role;
  switch (account.role) {
    case domain::OperatorRole::admin:
      return http::Principal::operator_account(account.id, Role::admin);
    case domain::OperatorRole::trader:
      return http::Principal::operator_account(account.id, Role::trader);
    case domain::OperatorRole::support:
      return http::Principal::operator_account(account.id, Role::support);
  }
  return http::Principal{};
}
}  // namespace

std::string revocation_account(const http::Principal& principal) {
  return principal.is_operator() ? principal.actor() : std::to_string(principal.user_id);
}

std::optional<std::string_view> bearer_token(const http::Request& request) {
  auto header = request.header("authorization");
  if (!header) return std::nullopt;
  constexpr std::string_view kBearer = "Bearer ";
  if (header->size() <= kBearer.size() || !header->starts_with(kBearer)) return std::string_view{};
  return header->substr(kBearer.size());
}

Authenticator::Authenticator(AdminTokens admin, service::Context& ctx)
    : admin_digest_(sha256(admin.current)), ctx_(ctx), verified_(kMaxCachedTokens) {
  if (!admin.previous.empty()) previous_admin_digest_ = sha256(admin.previous);
}

asio::awaitable<Result<http::Principal>> Authenticator::authenticate(const http::Request& request) {
  const auto bearer = bearer_token(request);
  if (!bearer) co_return http::Principal{};
  if (bearer->empty()) {
    co_return unauthorized("The Authorization header must be 'Bearer <token>'.");
  }
  const std::string_view token = *bearer;
  const Digest digest = sha256(token);
  // Both compared whatever the first gives, so the time says nothing of which.
  bool admin = constant_time_equal(digest, admin_digest_);
  if (previous_admin_digest_) admin = constant_time_equal(digest, *previous_admin_digest_) || admin;
  if (admin) co_return http::Principal::owner();
  if (!looks_like_token(token)) co_return invalid_token();

  if (auto known = verified_.find(digest)) {
    const bool fresh = std::chrono::steady_clock::now() - known->verified_at < service::kTokenTrust;
    const bool unexpired = !known->expires_at || *known->expires_at > ctx_.now();
    if (fresh && unexpired) {
      const std::string account = revocation_account(known->principal);
      auto check = co_await service::token_revoked(ctx_, account, digest);
      if (check.ok() && check->revoked) {
        verified_.forget(digest);
        co_return invalid_token();
      }
      // "Not revoked" counts only from a Redis process that has answered for
      // the mark since before the token was verified: one that began to
      // answer later (a restart, a failover) may have lost the mark.
      if (check.ok() && known->verified_at >= check->answerer_since) co_return known->principal;
      // Redis cannot say: the database, the truth, decides below.
    }
    verified_.forget(digest);
  }

  // Verified as of when it was asked, not answered: a revocation committed
  // meanwhile may be missing from the answer.
  const auto asked_at = std::chrono::steady_clock::now();
  auto session = co_await service::session_for_token(ctx_, digest);
  if (!session.ok()) co_return std::move(session).error();
  if (!*session) co_return invalid_token();
  const KnownToken known{principal_of((*session)->account), (*session)->expires_at, asked_at};
  verified_.remember(digest, known);
  if (on_verified_) on_verified_(digest, known);
  co_return known.principal;
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
    if (!r.principal.is_admin()) return forbidden("Only an admin may do this.");
    return {};
  });
}

http::Guard trader(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (!r.principal.may_trade()) return forbidden("Only a trader or an admin may do this.");
    return {};
  });
}

http::Guard account_reader(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (!r.principal.may_read_accounts()) return forbidden("Only support or an admin may do this.");
    return {};
  });
}

http::Guard self_or_account_reader(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.may_read_accounts()) return {};
    if (!r.principal.is_user() || r.principal.user_id != r.path_ids.at(0))
      return forbidden("This resource belongs to another user.");
    return {};
  });
}

http::Guard owner_only(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_staff()) return forbidden("Staff cannot use carts.");
    if (r.principal.user_id != r.path_ids.at(0))
      return forbidden("This cart belongs to another user.");
    return {};
  });
}

http::Guard account_holder(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_staff()) return forbidden("Only the account's holder may do this.");
    if (r.principal.user_id != r.path_ids.at(0))
      return forbidden("This account belongs to another user.");
    return {};
  });
}

http::Guard operator_self_or_admin(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_admin()) return {};
    if (!r.principal.is_operator() || r.principal.operator_id != r.path_ids.at(0))
      return forbidden("Only the operator themself or an admin may do this.");
    return {};
  });
}

http::Guard signed_in(Authenticator& auth) {
  return make_guard(auth, require_authenticated);
}

http::Guard bettor(Authenticator& auth) {
  return make_guard(auth, [](const http::Request& r) -> Status {
    if (auto s = require_authenticated(r); !s.ok()) return s;
    if (r.principal.is_staff()) return forbidden("Staff cannot place bets.");
    return {};
  });
}

}  // namespace betsdb::api
