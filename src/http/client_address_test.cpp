#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include "http/request.hpp"

namespace betsdb::http {
namespace {

const std::vector<std::string> kProxy{"127.0.0.1"};

TEST(ClientAddress, IsThePeerUnlessThePeerIsATrustedProxy) {
  EXPECT_EQ(client_address("10.0.0.5", std::nullopt, kProxy), "10.0.0.5");
  EXPECT_EQ(client_address("10.0.0.5", "203.0.113.9", kProxy), "10.0.0.5");
  EXPECT_EQ(client_address("127.0.0.1", "203.0.113.9", {}), "127.0.0.1");
}

TEST(ClientAddress, BehindATrustedProxyIsTheRightMostUntrustedEntry) {
  EXPECT_EQ(client_address("127.0.0.1", "203.0.113.9", kProxy), "203.0.113.9");
  // The client wrote the first entry itself: only what the proxy added counts.
  EXPECT_EQ(client_address("127.0.0.1", "1.2.3.4, 203.0.113.9", kProxy), "203.0.113.9");
  // Two trusted hops.
  EXPECT_EQ(client_address("127.0.0.1", "198.51.100.7 ,127.0.0.1", kProxy), "198.51.100.7");
  EXPECT_EQ(client_address("127.0.0.1", "::ffff:198.51.100.7", kProxy), "198.51.100.7");
  EXPECT_EQ(client_address("127.0.0.1", "2001:db8::1", kProxy), "2001:db8::1");
}

TEST(ClientAddress, AMalformedEntryStopsAtTheNearestKnownAddress) {
  EXPECT_EQ(client_address("127.0.0.1", "not-an-ip", kProxy), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", "", kProxy), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", "203.0.113.9, junk", kProxy), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", "junk, 127.0.0.1", kProxy), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", "127.0.0.1", kProxy), "127.0.0.1");
}

// HAProxy's `option forwardfor` adds a line of its own after any line the
// client wrote: the lines are one list, the proxy's entry last.
TEST(ClientAddress, ForwardedForLinesAreOneListInTheOrderReceived) {
  Request request;
  request.headers = {{"x-forwarded-for", "198.51.100.7"},
                     {"content-type", "application/json"},
                     {"x-forwarded-for", "203.0.113.9, 192.0.2.1"}};
  EXPECT_EQ(request.joined_header("x-forwarded-for"), "198.51.100.7,203.0.113.9, 192.0.2.1");
  EXPECT_EQ(request.joined_header("x-real-ip"), std::nullopt);
  const auto joined = request.joined_header("x-forwarded-for");
  EXPECT_EQ(client_address("10.0.0.1", *joined, {"10.0.0.1"}), "192.0.2.1");
}

TEST(ClientBlock, IsAnIpv4AddressItselfAndAnIpv6AddresssSlash64) {
  EXPECT_EQ(client_block("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(client_block("2001:db8:0:1::1"), "2001:db8:0:1::/64");
  EXPECT_EQ(client_block("2001:db8:0:1:ffff:ffff:ffff:ffff"), "2001:db8:0:1::/64");
  EXPECT_NE(client_block("2001:db8:0:2::1"), client_block("2001:db8:0:1::1"));
  EXPECT_EQ(client_block("::1"), "::/64");
  EXPECT_EQ(client_block("not-an-ip"), "not-an-ip");
}

}  // namespace
}  // namespace betsdb::http
