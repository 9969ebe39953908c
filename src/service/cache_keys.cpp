#include "service/cache_keys.hpp"

#include <cctype>

namespace betsdb::service {

namespace {

void append(std::string& key, std::string_view name, std::string_view value) {
  if (!key.empty()) key += '&';
  key += name;
  key += '=';
  key += value;
}

// Values are percent-encoded (all but unreserved characters), so a value can
// never spell '&' or '=' and pose as another filter: "team=x&to=1" is one key
// for the team "x&to=1" and another for team "x" with to=1.
std::string encoded(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string micros(domain::Timestamp t) {
  return std::to_string(t.time_since_epoch().count());
}

std::string_view sort_name(domain::BetSort sort) {
  switch (sort) {
    case domain::BetSort::newest:
      return "-created_at";
    case domain::BetSort::oldest:
      return "created_at";
    case domain::BetSort::stake_ascending:
      return "stake";
    case domain::BetSort::stake_descending:
      return "-stake";
  }
  return "?";
}

void append_page(std::string& key, const domain::Page& page) {
  append(key, "limit", std::to_string(page.limit));
  append(key, "offset", std::to_string(page.offset));
}

// The filters that ignore case: "Arsenal" and "arsenal" are one question.
// (Only ASCII is folded here; other letters at worst make two entries that
// hold the same answer.)
std::string ascii_folded(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string match_list_key(const domain::MatchFilter& f, const domain::Page& page) {
  std::string key;
  if (f.competition) append(key, "competition", encoded(ascii_folded(*f.competition)));
  if (f.from) append(key, "from", micros(*f.from));
  if (f.search) append(key, "q", encoded(ascii_folded(*f.search)));
  if (f.status) append(key, "status", domain::to_string(*f.status));
  if (f.team) append(key, "team", encoded(ascii_folded(*f.team)));
  if (f.to) append(key, "to", micros(*f.to));
  append(key, "sort", f.newest_first ? "-date" : "date");
  append_page(key, page);
  return key;
}

std::string bet_list_key(const domain::BetFilter& f, const domain::Page& page) {
  std::string key;
  if (f.match_id) append(key, "match_id", std::to_string(*f.match_id));
  if (f.max_stake) append(key, "max_stake", std::to_string(*f.max_stake));
  if (f.min_stake) append(key, "min_stake", std::to_string(*f.min_stake));
  if (f.selection) append(key, "selection", domain::to_string(*f.selection));
  if (f.status) append(key, "status", domain::to_string(*f.status));
  append(key, "sort", sort_name(f.sort));
  append_page(key, page);
  return key;
}

}  // namespace betsdb::service
