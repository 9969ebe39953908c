// The inside of a JSON string, for every writer of JSON text: the API's
// bodies (util/json_writer.hpp) and the log lines (util/logging.hpp).
#pragma once

#include <string>
#include <string_view>

namespace betsdb {

// Appends `text` as the inside of a JSON string: escapes quotes,
// backslashes, control characters and DEL; replaces each byte that is not
// part of well-formed UTF-8 with U+FFFD, so the output is always valid
// JSON, even when it echoes a client's malformed bytes. One pass.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace betsdb
