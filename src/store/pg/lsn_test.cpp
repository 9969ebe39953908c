// WAL positions as PostgreSQL prints them, and as numbers that compare.
#include "store/pg/lsn.hpp"

#include <gtest/gtest.h>

namespace betsdb::pg {
namespace {

TEST(Lsn, ParsesBothHalves) {
  EXPECT_EQ(parse_lsn("0/0"), Lsn{0});
  EXPECT_EQ(parse_lsn("0/16B3748"), Lsn{0x16B3748});
  EXPECT_EQ(parse_lsn("16/B374D848"), (Lsn{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), ~Lsn{0});
  EXPECT_EQ(parse_lsn("a/b"), (Lsn{0xa} << 32) | 0xb);
}

TEST(Lsn, RefusesWhatIsNotAnLsn) {
  for (const char* bad : {"", "/", "0/", "/0", "0", "0/0/0", "G/0", "0/1G", "-1/0", "0/-1",
                          "123456789/0", "0/123456789", " 0/0", "0/0 ", "0x1/0"}) {
    EXPECT_FALSE(parse_lsn(bad)) << bad;
  }
}

TEST(Lsn, FormatsAsPostgresDoes) {
  EXPECT_EQ(format_lsn(0), "0/0");
  EXPECT_EQ(format_lsn((Lsn{0x16} << 32) | 0xB374D848), "16/B374D848");
  EXPECT_EQ(format_lsn(~Lsn{0}), "FFFFFFFF/FFFFFFFF");
  for (Lsn lsn : {Lsn{1}, Lsn{0xFFFFFFFF}, Lsn{1} << 32, (Lsn{7} << 32) | 9}) {
    EXPECT_EQ(parse_lsn(format_lsn(lsn)), lsn);
  }
}

// The order that matters: the high half first, so "1/0" is past "0/FFFFFFFF".
TEST(Lsn, ComparesAsPositions) {
  EXPECT_LT(*parse_lsn("0/FFFFFFFF"), *parse_lsn("1/0"));
  EXPECT_LT(*parse_lsn("0/9"), *parse_lsn("0/10"));
  EXPECT_LT(*parse_lsn("9/0"), *parse_lsn("A/0"));
}

}  // namespace
}  // namespace betsdb::pg
