#include "service/users.hpp"

namespace betsdb::service {

namespace {
Error user_not_found(std::int64_t id) {
  return Error::make(Errc::user_not_found, "No user with id " + std::to_string(id) + ".");
}
}  // namespace

Async<SignedUp> sign_up(Context& ctx, SignUp request) {
  std::string token = generate_token();
  domain::NewUser row{request.email, request.name, request.initial_balance, sha256(token)};
  auto user = co_await ctx.users->insert(row);
  if (!user.ok()) {
    if (user.error().is(Errc::conflict) && user.error().constraint == kEmailTaken) {
      co_return Error::make(Errc::email_taken, "A user with this email already exists.");
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

Async<domain::Deposit> deposit(Context& ctx, std::int64_t user_id, domain::Money amount) {
  auto result = co_await ctx.users->deposit(user_id, amount);
  if (!result.ok()) co_return std::move(result).error();
  if (!*result) co_return user_not_found(user_id);
  co_return std::move(**result);
}

Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                               domain::Page page) {
  auto user = co_await ctx.users->find(user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  co_return co_await ctx.users->ledger(user_id, page);
}

Async<std::optional<std::int64_t>> user_for_token(Context& ctx, const Digest& digest) {
  count(ctx.counters->service.token_lookups);
  co_return co_await ctx.users->id_by_token(digest);
}

}  // namespace betsdb::service
