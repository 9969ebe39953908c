// JSON renderings of domain values, exactly as docs/api.md shows them.
#pragma once

#include <string>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "util/json_writer.hpp"

namespace betsdb::api {

void write_user(JsonWriter& w, const domain::User& user);  // without token
void write_ledger_entry(JsonWriter& w, const domain::LedgerEntry& entry);
void write_odds_book(JsonWriter& w, const domain::OddsBook& odds);
void write_match(JsonWriter& w, const domain::Match& match);
// One match as GET /v1/matches/{id} returns it (and the live stream's events).
std::string render_match(const domain::Match& match);
// `name`: cents, or null for none.
void write_optional_money(JsonWriter& w, std::string_view name,
                          const std::optional<domain::Money>& money);
void write_bet(JsonWriter& w, const domain::Bet& bet);

// {"items": [...], "total": N, "limit": L, "offset": O}
template <class T, class WriteItem>
std::string render_page(const domain::ListPage<T>& page, const domain::Page& paging,
                        WriteItem write_item) {
  std::string out;
  out.reserve(256 + page.items.size() * 256);
  JsonWriter w(out);
  w.begin_object().key("items").begin_array();
  for (const auto& item : page.items) write_item(w, item);
  w.end_array();
  w.field("total", page.total).field("limit", paging.limit).field("offset", paging.offset);
  w.end_object();
  return out;
}

}  // namespace betsdb::api
