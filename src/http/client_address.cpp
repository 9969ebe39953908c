#include "http/client_address.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

namespace betsdb::http {

namespace {

bool is_trusted(const std::string& address, const std::vector<std::string>& trusted) {
  return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
}

// The entry as a canonical address; nullopt when it is not one.
std::optional<std::string> parse_entry(std::string_view entry) {
  while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
  while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(entry), ec);
  if (ec) return std::nullopt;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  }
  return address.to_string();
}

}  // namespace

std::string client_address(const std::string& peer, std::optional<std::string_view> forwarded_for,
                           const std::vector<std::string>& trusted) {
  if (!forwarded_for || !is_trusted(peer, trusted)) return peer;
  std::string_view rest = *forwarded_for;
  std::string nearest = peer;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    auto address = parse_entry(entry);
    if (!address) return nearest;
    if (!is_trusted(*address, trusted)) return *address;
    nearest = *address;
  }
  return nearest;
}

std::string client_block(const std::string& address) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(address, ec);
  if (ec || !parsed.is_v6()) return address;
  auto bytes = parsed.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::make_address_v6(bytes).to_string() + "/64";
}

}  // namespace betsdb::http
