// Text that users choose (an email, a team's name) inside a Redis key.
#pragma once

#include <string>
#include <string_view>

namespace betsdb::service {

// Appends `text` with the characters that give a key its structure
// percent-encoded: '%' itself, the ':' between a key's parts and the braces
// of a hash tag. So no text can pose as another part, and none can break the
// tag it sits in: "{" + "}ann@example.com" + "}" would make "{}" the tag,
// which Redis Cluster takes for none, and a user's keys would scatter over
// slots that one script cannot touch together.
void append_key_text(std::string& key, std::string_view text);

}  // namespace betsdb::service
