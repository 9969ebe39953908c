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

std::string render_match(const domain::Match& match) {
  std::string out;
  JsonWriter w(out);
  write_match(w, match);
  return out;
}

void write_match(JsonWriter& w, const domain::Match& m) {
  w.begin_object()
      .field("id", m.id)
      .field("team_1", m.team_1)
      .field("team_2", m.team_2)
      .field("date", domain::format_rfc3339(m.date));
  w.key("competition");
  if (m.competition) {
    w.value(*m.competition);
  } else {
    w.null();
  }
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

namespace {

// Hundredths as a JSON number with two decimals: 875 -> 8.75.
std::string hundredths_text(std::int64_t hundredths) {
  std::string out = std::to_string(hundredths / 100);
  out += '.';
  out += static_cast<char>('0' + hundredths % 100 / 10);
  out += static_cast<char>('0' + hundredths % 10);
  return out;
}

void write_legs(JsonWriter& w, const std::vector<domain::Leg>& legs) {
  w.key("legs").begin_array();
  for (const domain::Leg& leg : legs) {
    w.begin_object()
        .field("match_id", leg.match_id)
        .field("selection", domain::to_string(leg.selection));
    w.key("odds").raw(leg.odds.to_string());
    w.field("odds_version", leg.odds_version)
        .field("status", domain::to_string(leg.status))
        .end_object();
  }
  w.end_array();
}

}  // namespace

void write_bet(JsonWriter& w, const domain::Bet& b) {
  const bool single = b.type == domain::BetType::single;
  w.begin_object().field("id", b.id).field("user_id", b.user_id);
  if (single) {
    w.field("match_id", b.match_id).field("selection", domain::to_string(b.selection));
  } else {
    w.key("match_id").null().key("selection").null();
  }
  w.field("stake", b.stake.cents());
  w.key("odds").raw(single ? b.odds.to_string() : hundredths_text(b.combined_odds_hundredths));
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
  if (single && b.odds_version) {
    w.value(*b.odds_version);
  } else {
    w.null();
  }
  w.field("type", domain::to_string(b.type)).key("cash_out_amount");
  if (b.cash_out_amount) {
    w.value(b.cash_out_amount->cents());
  } else {
    w.null();
  }
  if (!single) write_legs(w, b.legs);
  w.end_object();
}

}  // namespace betsdb::api
