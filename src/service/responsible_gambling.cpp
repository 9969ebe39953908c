#include "service/responsible_gambling.hpp"

#include <spdlog/spdlog.h>

#include <string>

#include "service/errors.hpp"

namespace betsdb::service {

namespace {

std::string quoted(std::string text) {
  return "\"" + text + "\"";
}
}  // namespace

Error betting_paused(domain::Timestamp until) {
  return domain::betting_paused(domain::format_rfc3339(until));
}

Error stake_limit_exceeded() {
  return Error::make(Errc::stake_limit_exceeded,
                     "This would take your stakes over one of your stake limits.");
}

Error deposit_limit_exceeded() {
  return Error::make(Errc::deposit_limit_exceeded,
                     "This would take your deposits over one of your deposit limits.");
}

Async<void> require_betting_allowed(Context& ctx, std::int64_t user_id) {
  auto until = co_await ctx.limits->paused_until(user_id);
  if (!until.ok()) co_return std::move(until).error();
  if (*until) co_return betting_paused(**until);
  co_return Status{};
}

Async<domain::Limits> get_limits(Context& ctx, std::int64_t user_id) {
  auto limits = co_await ctx.limits->read(user_id);
  if (!limits.ok()) co_return std::move(limits).error();
  if (!*limits) co_return user_not_found(user_id);
  co_return std::move(**limits);
}

Async<domain::Limits> change_limits(Context& ctx, std::int64_t user_id,
                                    std::span<const domain::UserLimitChange> changes) {
  auto limits = co_await ctx.limits->change(user_id, changes);
  if (!limits.ok()) co_return std::move(limits).error();
  if (!*limits) co_return user_not_found(user_id);
  co_return std::move(**limits);
}

Async<domain::Timestamp> pause_betting(Context& ctx, std::int64_t user_id,
                                       const domain::PauseRequest& pause) {
  auto started = co_await ctx.limits->pause(user_id, pause);
  if (!started.ok()) co_return std::move(started).error();
  if (!started->user_found) co_return user_not_found(user_id);
  if (!started->started || !started->until) {
    const std::string until =
        started->until ? domain::format_rfc3339(*started->until) : std::string("later");
    Error e = Error::make(Errc::exclusion_not_shortened,
                          pause.kind == domain::PauseKind::self_exclusion
                              ? "A self-exclusion runs until " + until + "; it cannot be shortened."
                              : "A time-out runs until " + until + "; it cannot be shortened.");
    if (started->until) e.extras.emplace_back("until", quoted(until));
    co_return e;
  }
  // The pause holds already (every debit checks it); the cart is emptied
  // and closed until it ends. A cart left open by a Redis outage can still
  // never be checked out while the pause runs.
  if (auto closed = co_await ctx.carts->close_for_pause(user_id, *started->until); !closed.ok()) {
    spdlog::warn("user {}: cart not closed after a pause began: {}", user_id,
                 closed.error().detail);
  }
  co_return *started->until;
}

}  // namespace betsdb::service
