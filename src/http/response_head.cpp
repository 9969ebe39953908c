#include "http/response_head.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/container/small_vector.hpp>
#include <charconv>
#include <utility>

namespace betsdb::http {

namespace {

namespace bhttp = boost::beast::http;

// Answers carry a handful of fields: these many cost no allocation.
constexpr std::size_t kInlineFields = 8;

using Field = std::pair<std::string_view, std::string_view>;

// Beast's set(): the old fields of that name go, the new one comes last.
class Fields {
 public:
  void set(std::string_view name, std::string_view value) {
    auto stale = std::remove_if(fields_.begin(), fields_.end(), [name](const Field& f) {
      return boost::beast::iequals(f.first, name);
    });
    fields_.erase(stale, fields_.end());
    fields_.emplace_back(name, value);
  }
  const auto& all() const { return fields_; }

 private:
  boost::container::small_vector<Field, kInlineFields> fields_;
};

// The decimal digits of `n`, written into `digits` (20 hold any std::size_t).
std::string_view decimal(std::array<char, 20>& digits, std::size_t n) {
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  (void)ec;
  return {digits.data(), end};
}

}  // namespace

bool status_forbids_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void append_response_head(std::string& out, const ResponseHead& head) {
  Fields fields;
  if (!head.content_type.empty()) fields.set("Content-Type", head.content_type);
  fields.set("X-Request-Id", head.request_id);
  for (const auto& h : head.headers) fields.set(h.name, h.value);
  if (!head.keep_alive) fields.set("Connection", "close");
  std::array<char, 20> length{};
  if (head.content_length && !status_forbids_body(head.status)) {
    fields.set("Content-Length", decimal(length, *head.content_length));
  }

  out.append("HTTP/1.1 ");
  std::array<char, 20> status{};
  out.append(decimal(status, static_cast<std::size_t>(head.status)));
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(head.status));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  for (const auto& [name, value] : fields.all()) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace betsdb::http
