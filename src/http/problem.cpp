#include "http/problem.hpp"

#include <boost/json.hpp>

#include "util/utf8.hpp"

namespace betsdb::http {

Response problem(const Error& error) {
  // Store-level codes must have been translated by the service layer; if one
  // leaks, answer as the bug it is rather than exposing internals.
  Errc code = error.code;
  if (code == Errc::conflict) code = Errc::internal;
  const int status = http_status(code);

  boost::json::object body;
  body["type"] = "about:blank";
  body["title"] = code_title(code);
  body["status"] = status;
  body["code"] = code_name(code);
  body["detail"] = code == Errc::internal ? std::string("An unexpected error occurred.")
                   : error.detail.empty() ? std::string(code_title(code))
                                          : error.detail;
  if (!error.field_errors.empty()) {
    boost::json::array errors;
    for (const auto& fe : error.field_errors) {
      errors.push_back(boost::json::object{{"field", fe.field}, {"message", fe.message}});
    }
    body["errors"] = std::move(errors);
  }
  if (!error.item_ids.empty()) {
    boost::json::array ids;
    for (auto id : error.item_ids) ids.push_back(id);
    body["item_ids"] = std::move(ids);
  }
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  // Details may echo a client's bytes (a parameter's name); JSON must be UTF-8.
  // Escapes are ASCII, so repairing the serialized text only touches strings.
  std::string text = boost::json::serialize(body);
  for (const auto& [name, json_value] : error.extras) {
    text.pop_back();  // the closing brace
    text += ",\"";
    text += name;
    text += "\":";
    text += json_value;
    text += '}';
  }
  r.body = to_valid_utf8(std::move(text));
  if (error.retry_after_seconds > 0) {
    r.headers.push_back({"Retry-After", std::to_string(error.retry_after_seconds)});
  }
  return r;
}

}  // namespace betsdb::http
