#include "api/views.hpp"

namespace betsdb::api {

void write_user(JsonWriter& w, const domain::User& u) {
  w.begin_object()
      .field("id", u.id)
      .field("email", u.email)
      .field("name", u.name)
      .field("balance", u.balance.cents())
      .field("created_at", domain::format_rfc3339(u.created_at))
      .end_object();
}

void write_ledger_entry(JsonWriter& w, const domain::LedgerEntry& e) {
  w.begin_object()
      .field("id", e.id)
      .field("kind", domain::to_string(e.kind))
      .field("amount", e.amount)
      .field("bet_id", e.bet_id)
      .field("balance_after", e.balance_after.cents())
      .field("created_at", domain::format_rfc3339(e.created_at))
      .end_object();
}

void write_odds_book(JsonWriter& w, const domain::OddsBook& odds) {
  w.begin_object();
  for (auto s : domain::kAllSelections) {
    if (auto o = odds.get(s)) {
      w.key(domain::to_string(s)).raw(o->to_string());
    }
  }
  w.end_object();
}

void write_optional_money(JsonWriter& w, std::string_view name,
                          const std::optional<domain::Money>& money) {
  w.key(name);
  if (money) {
    w.value(money->cents());
  } else {
    w.null();
  }
}

void write_match(JsonWriter& w, const domain::Match& m) {
  w.begin_object()
      .field("id", m.id)
      .field("team_1", m.team_1)
      .field("team_2", m.team_2)
      .field("date", domain::format_rfc3339(m.date));
  w.key("odds");
  write_odds_book(w, m.odds);
  w.field("status", domain::to_string(m.status));
  w.key("result");
  if (m.result) {
    w.value(domain::to_string(*m.result));
  } else {
    w.null();
  }
  w.field("created_at", domain::format_rfc3339(m.created_at)).field("odds_version", m.odds_version);
  write_optional_money(w, "max_stake", m.limits.max_stake);
  write_optional_money(w, "max_liability", m.limits.max_liability);
  w.end_object();
}

void write_bet(JsonWriter& w, const domain::Bet& b) {
  w.begin_object()
      .field("id", b.id)
      .field("user_id", b.user_id)
      .field("match_id", b.match_id)
      .field("selection", domain::to_string(b.selection))
      .field("stake", b.stake.cents());
  w.key("odds").raw(b.odds.to_string());
  w.field("potential_payout", b.potential_payout.cents())
      .field("status", domain::to_string(b.status))
      .field("created_at", domain::format_rfc3339(b.created_at));
  w.key("settled_at");
  if (b.settled_at) {
    w.value(domain::format_rfc3339(*b.settled_at));
  } else {
    w.null();
  }
  w.key("odds_version");
  if (b.odds_version) {
    w.value(*b.odds_version);
  } else {
    w.null();
  }
  // Accumulators and cash-out are not built yet: every bet is a single one
  // that has not been cashed out.
  w.field("type", "single").key("cash_out_amount").null();
  w.end_object();
}

}  // namespace betsdb::api
