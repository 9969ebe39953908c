#include "service/cash_out.hpp"

#include <charconv>
#include <vector>

#include "domain/cash_out.hpp"
#include "service/outcome.hpp"
#include "service/placing.hpp"
#include "service/read_cache.hpp"
#include "util/token.hpp"

namespace betsdb::service {

namespace {

// A quote as stored: "bet|user|amount|expires_us|match:version,...".
struct StoredQuote {
  std::int64_t bet_id = 0;
  std::int64_t user_id = 0;
  domain::Money amount;
  domain::Timestamp expires_at;
  std::vector<domain::QuotedLeg> pending_legs;
};

std::string encode(const StoredQuote& q) {
  std::string out = std::to_string(q.bet_id) + "|" + std::to_string(q.user_id) + "|" +
                    std::to_string(q.amount.cents()) + "|" +
                    std::to_string(q.expires_at.time_since_epoch().count()) + "|";
  for (std::size_t i = 0; i < q.pending_legs.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(q.pending_legs[i].match_id) + ":" +
           std::to_string(q.pending_legs[i].odds_version);
  }
  return out;
}

bool read_number(std::string_view& text, char end, std::int64_t& out) {
  const auto stop = text.find(end);
  const std::string_view digits = text.substr(0, stop);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  text = stop == std::string_view::npos ? std::string_view{} : text.substr(stop + 1);
  return true;
}

std::optional<StoredQuote> decode(std::string_view text) {
  StoredQuote q;
  std::int64_t amount = 0;
  std::int64_t expires = 0;
  if (!read_number(text, '|', q.bet_id) || !read_number(text, '|', q.user_id) ||
      !read_number(text, '|', amount) || !read_number(text, '|', expires)) {
    return std::nullopt;
  }
  q.amount = domain::Money(amount);
  q.expires_at = domain::Timestamp(std::chrono::microseconds(expires));
  while (!text.empty()) {
    domain::QuotedLeg leg;
    if (!read_number(text, ':', leg.match_id) || !read_number(text, ',', leg.odds_version)) {
      return std::nullopt;
    }
    q.pending_legs.push_back(leg);
  }
  return q;
}

Error unavailable(std::string detail) {
  return Error::make(Errc::cash_out_unavailable, std::move(detail));
}

Async<domain::Bet> owned_bet(Context& ctx, std::int64_t user_id, std::int64_t bet_id) {
  auto bet = co_await ctx.bets->find(bet_id);
  if (!bet.ok()) co_return std::move(bet).error();
  if (!*bet) {
    co_return Error::make(Errc::bet_not_found, "No bet with id " + std::to_string(bet_id) + ".");
  }
  if ((*bet)->user_id != user_id) {
    co_return Error::make(Errc::forbidden, "This bet belongs to another user.");
  }
  co_return std::move(**bet);
}

// The bet's legs as the quote sees them: a single is one pending leg.
std::vector<domain::Leg> legs_of(const domain::Bet& bet) {
  if (bet.type == domain::BetType::accumulator) return bet.legs;
  return {domain::Leg{bet.match_id, bet.selection, bet.odds, bet.odds_version.value_or(0),
                      domain::BetStatus::pending}};
}

}  // namespace

Async<CashOutQuote> quote_cash_out(Context& ctx, std::int64_t user_id, std::int64_t bet_id) {
  auto bet = co_await owned_bet(ctx, user_id, bet_id);
  if (!bet.ok()) co_return std::move(bet).error();
  if (bet->status != domain::BetStatus::pending) {
    co_return unavailable("Only a pending bet can be cashed out.");
  }
  StoredQuote stored{bet_id, user_id, {}, {}, {}};
  std::vector<domain::CashOutLeg> priced;
  for (const domain::Leg& leg : legs_of(*bet)) {
    if (leg.status != domain::BetStatus::pending) {
      priced.push_back(domain::CashOutLeg{leg.odds, leg.status, leg.odds});
      continue;
    }
    // Read now, not remembered: the quote prices today's odds.
    auto match = co_await read_match(ctx, leg.match_id);
    if (!match.ok()) co_return std::move(match).error();
    if (bettable_refusal(*match, leg.selection, ctx.now())) {
      co_return unavailable("Match " + std::to_string(leg.match_id) +
                            " is not open for betting on this selection now.");
    }
    priced.push_back(
        domain::CashOutLeg{leg.odds, domain::BetStatus::pending, *match->odds.get(leg.selection)});
    stored.pending_legs.push_back(domain::QuotedLeg{leg.match_id, match->odds_version});
  }
  stored.amount = domain::cash_out_amount(bet->stake, priced, ctx.cash_out_margin);
  if (stored.amount.cents() <= 0) co_return unavailable("The bet is worth nothing now.");
  stored.expires_at =
      ctx.now() + std::chrono::duration_cast<std::chrono::microseconds>(kQuoteLifetime);

  CashOutQuote quote{generate_token(), bet_id, stored.amount, stored.expires_at};
  auto put = co_await ctx.quotes->put(quote.quote_id, encode(stored), kQuoteLifetime);
  if (!put.ok()) co_return std::move(put).error();
  co_return quote;
}

Async<domain::Bet> accept_cash_out(Context& ctx, std::int64_t user_id, std::int64_t bet_id,
                                   const std::string& quote_id) {
  // A live quote for this bet and user was made after owned_bet() found the
  // bet theirs, and a bet never changes hands: with one, the statement below
  // is the only read the cash-out needs. Without one, the checks the
  // contract puts first (the bet exists and is the caller's) decide the
  // answer before the quote's.
  auto text = co_await ctx.quotes->get(quote_id);
  const auto quote = text.ok() && *text ? decode(**text) : std::nullopt;
  if (!quote || quote->bet_id != bet_id || quote->user_id != user_id ||
      quote->expires_at <= ctx.now()) {
    auto bet = co_await owned_bet(ctx, user_id, bet_id);
    if (!bet.ok()) co_return std::move(bet).error();
    if (!text.ok()) co_return std::move(text).error();
    co_return Error::make(Errc::quote_expired,
                          "The quote is unknown, expired or for another bet; ask for a new one.");
  }
  const domain::CashOutOrder order{bet_id, user_id, quote->amount, quote->pending_legs};
  auto done = co_await ctx.bets->cash_out(order);
  if (!done.ok()) {
    if (done.error().outcome_unknown) {
      std::string email_unknown;
      co_await after_bets_placed(ctx, user_id, std::move(email_unknown));
      co_return unknown_outcome(std::move(done).error());
    }
    co_return std::move(done).error();
  }
  switch (done->problem) {
    case domain::CashOutProblem::bet_not_found:
      co_return Error::make(Errc::bet_not_found, "No bet with id " + std::to_string(bet_id) + ".");
    case domain::CashOutProblem::already_settled: {
      // Perhaps this request's own retry, after a try whose commit was not
      // confirmed: that try's invalidation may have run before its commit
      // showed, and lists read in between would keep showing the bet
      // pending. Invalidated again, as a duplicate bet's are.
      co_await after_bets_placed(ctx, user_id, done->user_email);
      co_return Error::make(Errc::already_settled, "The bet is no longer pending.");
    }
    case domain::CashOutProblem::odds_changed:
      co_return Error::make(Errc::odds_changed,
                            "A selection of the bet moved or settled since the quote; ask for a "
                            "new one.");
    case domain::CashOutProblem::none:
      break;
  }
  count(ctx.counters->service.cash_outs);
  co_await after_bets_placed(ctx, user_id, done->user_email);
  if (!done->bet) co_return Error::internal("cash_out: the bet was not read back");
  co_return std::move(*done->bet);
}

}  // namespace betsdb::service
