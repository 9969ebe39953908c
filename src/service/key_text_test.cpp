// append_key_text, and what it is for: every key of one user's bet lists
// (the generation counter, its lsn: key, the entries) in one cluster slot,
// whatever the email holds.
#include "service/key_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/read_cache.hpp"
#include "store/redis/slots.hpp"

namespace betsdb::service {
namespace {

std::string key_text(std::string_view text) {
  std::string key;
  append_key_text(key, text);
  return key;
}

TEST(KeyText, EncodesWhatStructuresAKeyAndNothingElse) {
  EXPECT_EQ(key_text("ann@example.com"), "ann@example.com");
  EXPECT_EQ(key_text("100%:{x}"), "100%25%3A%7Bx%7D");
  EXPECT_EQ(key_text("a+b!#$&'*/=?^_`|~-@x.io"), "a+b!#$&'*/=?^_`|~-@x.io");
}

TEST(KeyText, KeepsEveryKeyOfOneUsersListsInOneSlot) {
  // Characters an email's local part may hold, at its start, middle and end.
  for (const char c : std::string("}{%:|!#$&'*+/=?^_`~-.")) {
    // Each built in place: g++ 12 at -O1 (the TSan build) reported a false
    // -Warray-bounds on `std::string(1, c) + "..."` in some unity batches.
    std::vector<std::string> emails(3, "ann@example.com");
    emails[0].insert(0, 1, c);
    emails[1].insert(2, 1, c);
    emails[2].insert(3, 1, c);
    for (const std::string& email : emails) {
      const CacheNamespace lists = ReadCache::user_bets(email);
      ASSERT_EQ(lists.generations.size(), 1U);
      const std::string& generation = lists.generations.front();
      const auto slot = redis::key_slot(generation);
      EXPECT_EQ(redis::key_slot("lsn:" + generation), slot) << email;
      EXPECT_EQ(redis::key_slot(lists.prefix + ":7:limit=20"), slot) << email;
      // And not the slot of one empty tag shared by every such email.
      EXPECT_EQ(generation.find("{}"), std::string::npos) << generation;
    }
  }
}

}  // namespace
}  // namespace betsdb::service
