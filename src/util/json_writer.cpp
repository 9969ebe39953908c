#include "util/json_writer.hpp"

#include "util/json_escape.hpp"

namespace betsdb {

void JsonWriter::append_escaped(std::string& out, std::string_view text) {
  append_json_escaped(out, text);
}

}  // namespace betsdb
