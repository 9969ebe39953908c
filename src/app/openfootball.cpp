#include "app/openfootball.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>

#include "domain/text.hpp"

namespace betsdb::app {

namespace json = boost::json;

namespace {

// Zones beyond these do not exist on Earth (UTC-12 .. UTC+14).
constexpr int kMaxUtcOffsetMinutes = 14 * 60;

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "+1", "-3", "+05:30", "+0530", "" (UTC itself).
std::optional<int> parse_offset(std::string_view s) {
  if (s.empty()) return 0;
  const int sign = s.front() == '+' ? 1 : s.front() == '-' ? -1 : 0;
  if (sign == 0) return std::nullopt;
  s.remove_prefix(1);
  std::string_view hours = s, minutes;
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    hours = s.substr(0, colon);
    minutes = s.substr(colon + 1);
    if (minutes.size() != 2) return std::nullopt;
  } else if (s.size() == 4) {
    hours = s.substr(0, 2);
    minutes = s.substr(2);
  }
  if (!digits(hours) || hours.size() > 2 || (!minutes.empty() && !digits(minutes)))
    return std::nullopt;
  const int total = number(hours) * 60 + (minutes.empty() ? 0 : number(minutes));
  if (total > kMaxUtcOffsetMinutes || (!minutes.empty() && number(minutes) >= 60))
    return std::nullopt;
  return sign * total;
}

std::optional<domain::MatchResult> result_of(int home_goals, int away_goals) {
  if (home_goals > away_goals) return domain::MatchResult::home;
  if (home_goals < away_goals) return domain::MatchResult::away;
  return domain::MatchResult::draw;
}

std::optional<int> goals(const json::value* v) {
  if (!v || !v->is_int64() || v->as_int64() < 0 || v->as_int64() > 1000) return std::nullopt;
  return static_cast<int>(v->as_int64());
}

// The full-time result, if the match has one.
std::optional<domain::MatchResult> full_time_result(const json::object& match) {
  if (const auto* score = match.if_contains("score"); score && score->is_object()) {
    if (const auto* ft = score->as_object().if_contains("ft"); ft && ft->is_array()) {
      const auto& pair = ft->as_array();
      if (pair.size() == 2) {
        auto home = goals(&pair[0]), away = goals(&pair[1]);
        if (home && away) return result_of(*home, *away);
      }
    }
    return std::nullopt;
  }
  auto home = goals(match.if_contains("score1")), away = goals(match.if_contains("score2"));
  if (home && away) return result_of(*home, *away);
  return std::nullopt;
}

std::optional<std::string_view> string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string());
}

Result<Fixture> fixture_of(const json::value& value, std::size_t index,
                           std::string_view file_name) {
  if (!value.is_object()) return Error::validation("match", "is not an object");
  const auto& match = value.as_object();
  Fixture f;
  f.index = index;

  auto team_1 = string_field(match, "team1");
  auto team_2 = string_field(match, "team2");
  if (!team_1 || !team_2) return Error::validation("team1/team2", "missing or not strings");
  auto t1 = domain::normalize_team(*team_1, "team1");
  if (!t1.ok()) return std::move(t1).error();
  auto t2 = domain::normalize_team(*team_2, "team2");
  if (!t2.ok()) return std::move(t2).error();
  if (domain::same_team(*t1, *t2)) return Error::validation("team2", "must differ from team1");
  f.team_1 = std::move(*t1);
  f.team_2 = std::move(*t2);

  auto date = string_field(match, "date");
  if (!date) return Error::validation("date", "missing or not a string");
  KickoffTime kickoff{kDefaultKickoffHourUtc * 60, 0};
  if (auto time = string_field(match, "time"); time && !trim(*time).empty()) {
    auto parsed = parse_kickoff_time(*time);
    if (!parsed)
      return Error::validation("time", "must be HH:MM, optionally with a zone such as UTC+1");
    kickoff = *parsed;
  }
  const int offset = kickoff.utc_offset_minutes;
  const int abs_offset = offset < 0 ? -offset : offset;
  char text[64];
  std::snprintf(text, sizeof text, "T%02d:%02d:00%c%02d:%02d", kickoff.minutes / 60,
                kickoff.minutes % 60, offset < 0 ? '-' : '+', abs_offset / 60, abs_offset % 60);
  // parse_rfc3339 checks the calendar (no 2023-02-29) and the date's shape.
  auto when = domain::parse_rfc3339(std::string(trim(*date)) + text, "date");
  if (!when.ok()) return Error::validation("date", "must be a date YYYY-MM-DD");
  f.date = *when;
  f.result = full_time_result(match);
  // Newlines cannot appear in a normalised team name, so no two different
  // fixtures spell the same identity.
  f.identity = std::string(file_name) + '\n' +
               std::string(string_field(match, "round").value_or("")) + '\n' + f.team_1 + '\n' +
               f.team_2 + '\n' + domain::format_rfc3339(f.date);
  return f;
}

std::optional<std::string> competition_of(std::string_view name) {
  // Leading spaces first, so the cut keeps 100 characters of the name; then
  // cut at a code point boundary; normalising trims the end.
  name = trim(name);
  std::size_t end = 0;
  for (std::size_t points = 0; end < name.size() && points < domain::kMaxNameLength; ++points) {
    ++end;
    while (end < name.size() && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) ++end;
  }
  auto normalized = domain::normalize_competition(name.substr(0, end), "name");
  if (!normalized.ok()) return std::nullopt;
  return std::move(*normalized);
}

std::string problem_text(const Error& e) {
  if (!e.field_errors.empty())
    return e.field_errors.front().field + " " + e.field_errors.front().message;
  return e.detail;
}

}  // namespace

std::optional<KickoffTime> parse_kickoff_time(std::string_view text) {
  text = trim(text);
  if (text.size() < 5 || text[2] != ':' || !digits(text.substr(0, 2)) ||
      !digits(text.substr(3, 2))) {
    return std::nullopt;
  }
  const int hours = number(text.substr(0, 2)), minutes = number(text.substr(3, 2));
  if (hours > 23 || minutes > 59) return std::nullopt;
  std::string_view zone = trim(text.substr(5));
  for (std::string_view prefix : {"UTC", "GMT", "Z"}) {
    if (zone.starts_with(prefix)) {
      zone.remove_prefix(prefix.size());
      break;
    }
  }
  auto offset = parse_offset(trim(zone));
  if (!offset) return std::nullopt;
  return KickoffTime{hours * 60 + minutes, *offset};
}

Result<FixtureFile> parse_openfootball(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return Error::validation("file", "is not JSON: " + ec.message());
  if (!doc.is_object()) return Error::validation("file", "is not a JSON object");
  const auto& root = doc.as_object();
  const auto* matches = root.if_contains("matches");
  if (!matches || !matches->is_array())
    return Error::validation("file", "has no \"matches\" array");

  FixtureFile out;
  if (auto name = string_field(root, "name")) out.name = std::string(*name);
  out.competition = competition_of(out.name);
  const auto& list = matches->as_array();
  out.fixtures.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto fixture = fixture_of(list[i], i, out.name);
    if (fixture.ok()) {
      out.fixtures.push_back(std::move(*fixture));
    } else {
      out.problems.push_back({i, problem_text(fixture.error())});
    }
  }
  return out;
}

}  // namespace betsdb::app
