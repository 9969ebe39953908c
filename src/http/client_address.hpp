// Who a request comes from, for limits per client (sign-ups): the TCP peer,
// or behind a trusted proxy (a load balancer such as HAProxy with `option
// forwardfor`) the address that proxy saw, from X-Forwarded-For.
//
// Only proxies the operator names are believed: anyone else can write any
// X-Forwarded-For they like. Each trusted proxy appends the address it saw,
// so the answer is the right-most entry that is not itself a trusted proxy.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace betsdb::http {

// `trusted`: IP addresses as text ("127.0.0.1", "::1"). A malformed entry in
// the header ends the walk at the peer's side: what lies beyond it is unknown.
std::string client_address(const std::string& peer, std::optional<std::string_view> forwarded_for,
                           const std::vector<std::string>& trusted);

// What a limit per client counts, given client_address()'s answer: an IPv4
// address itself, an IPv6 address's /64 network ("2001:db8:0:1::/64"). A
// subscriber is usually given a whole /64, and a host may take any of its
// 2^64 addresses, so counting addresses would be no limit at all.
std::string client_block(const std::string& address);

}  // namespace betsdb::http
