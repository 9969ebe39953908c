#include "service/users.hpp"

#include "service/errors.hpp"
#include "service/password_pool.hpp"
#include "service/responsible_gambling.hpp"

namespace betsdb::service {

Async<SignedUp> sign_up(Context& ctx, SignUp request) {
  std::string token = generate_token();
  domain::NewUser row{request.email, request.name, request.initial_balance,
                      sha256(token), {},           std::move(request.actor)};
  if (request.password) {
    auto hashed = co_await ctx.passwords->hash(std::move(*request.password));
    if (!hashed.ok()) co_return std::move(hashed).error();
    row.password_hash = std::move(*hashed);
  }
  auto user = co_await ctx.users->insert(row);
  if (!user.ok()) {
    if (user.error().is(Errc::conflict) &&
        (user.error().constraint == kEmailTaken || user.error().constraint == kAccountEmailTaken)) {
      co_return Error::make(Errc::email_taken, "An account with this email already exists.");
    }
    co_return std::move(user).error();
  }
  co_return SignedUp{std::move(*user), std::move(token)};
}

Async<domain::User> get_user(Context& ctx, std::int64_t user_id) {
  auto user = co_await ctx.users->find(user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  co_return std::move(**user);
}

Async<DepositAnswer> deposit(Context& ctx, std::int64_t user_id, domain::Money amount,
                             std::optional<std::string_view> key, const domain::Actor& actor) {
  std::optional<Digest> digest;
  if (key) digest = sha256(*key);
  auto result = co_await ctx.users->deposit(user_id, amount, digest, actor);
  if (!result.ok()) co_return std::move(result).error();
  if (result->earlier) {
    if (result->earlier->entry.amount != amount.cents()) {
      co_return Error::make(Errc::idempotency_key_reused,
                            "This Idempotency-Key was used for a deposit of another amount.");
    }
    co_return DepositAnswer{std::move(*result->earlier), true};
  }
  if (!result->user_found) co_return user_not_found(user_id);
  if (result->deposit) co_return DepositAnswer{std::move(*result->deposit), false};
  if (result->paused_until) co_return betting_paused(*result->paused_until);
  if (result->limit_short) co_return deposit_limit_exceeded();
  co_return Error::unavailable("The deposit did not happen; retry.");
}

Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                               domain::Page page) {
  auto user = co_await ctx.users->find(user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  co_return co_await ctx.users->ledger(user_id, page);
}

Async<domain::ListPage<domain::User>> list_users(Context& ctx, const domain::UserFilter& filter,
                                                 domain::Page page) {
  co_return co_await ctx.users->list(filter, page);
}

}  // namespace betsdb::service
