// A scripted fake Redis node for the cluster client's unit tests (included by
// *_test.cpp files only): a TCP acceptor on 127.0.0.1 and an ephemeral port
// that parses every RESP request (an array of bulk strings) with the
// client's own ReplyReader, records it, and answers it through a handler the
// test supplies, or else by default:
//
//   INFO ...        a bulk string with "run_id:<40 hex>" (the node's run_id())
//   CLUSTER SLOTS   the slot map given to set_slots(), changeable at any time
//   PING / ASKING   +PONG / +OK
//   SET / GET / DEL a small key-value store (set() preloads it)
//   anything else   -ERR unknown command
//
// Pipelined requests are answered in order, all the answers to one read in
// one write. An answer may instead hang up: the connection is closed on
// receiving that command (answers to the commands before it still go out).
//
// shut_down() closes every connection and the acceptor and keeps the port
// bound but not listening, so connecting to it is refused (nobody else can
// take the port meanwhile). A node built with Listen::no starts that way;
// listen() opens it.
//
// Background work holds the node's state, never the node, so a node may be
// destroyed while the io_context still has its operations queued.
//
// Thread-safety: none; everything runs on the io_context's one thread.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/redis/redis_test_support.hpp"
#include "store/redis/resp.hpp"

namespace betsdb::redis::testing {

// RESP2 reply bytes, for handlers. Built by appending: g++ 12 warns
// (-Wstringop-overflow, a false positive) on its inlined operator+ chains.
namespace wire {
inline std::string framed(char type, std::string_view body) {
  std::string out(1, type);
  out.append(body);
  out.append("\r\n");
  return out;
}
inline std::string status(std::string_view text) {
  return framed('+', text);
}
inline std::string error(std::string_view text) {
  return framed('-', text);
}
inline std::string integer(long long value) {
  return framed(':', std::to_string(value));
}
inline std::string bulk(std::string_view bytes) {
  std::string out = framed('$', std::to_string(bytes.size()));
  out.append(bytes);
  out.append("\r\n");
  return out;
}
inline std::string nil() {
  return "$-1\r\n";
}
inline std::string array(const std::vector<std::string>& encoded_elements) {
  std::string out = framed('*', std::to_string(encoded_elements.size()));
  for (const auto& element : encoded_elements) out += element;
  return out;
}
}  // namespace wire

inline bool same_word(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// 40 random lowercase hex digits, as a run_id or a cluster node id.
inline std::string random_hex40() {
  static std::mt19937_64 generator{std::random_device{}()};
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(40, '0');
  for (char& c : out) c = kHex[generator() % 16];
  return out;
}

class FakeRedisNode final {
 public:
  using Argv = std::vector<std::string>;

  // What a handler answers: RESP bytes, or hanging up on the command.
  struct Answer {
    Answer(std::string raw) : bytes(std::move(raw)) {}  // NOLINT: implicit by design
    Answer(const char* raw) : bytes(raw) {}             // NOLINT: implicit by design
    static Answer hang_up() {
      Answer a{std::string()};
      a.close = true;
      return a;
    }
    std::string bytes;
    bool close = false;
  };
  // nullopt: let the defaults answer.
  using Handler = std::function<std::optional<Answer>(const Argv&)>;

  struct Received {
    int connection = 0;  // 1, 2, ... in order of acceptance
    Argv argv;
  };

  // One entry of CLUSTER SLOTS.
  struct Address {
    std::string host;
    std::uint16_t port = 0;
    std::string id;  // the cluster node id
  };
  struct SlotRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    Address master;
    std::vector<Address> replicas;
  };

  enum class Listen { yes, no };

  explicit FakeRedisNode(boost::asio::io_context& io, Listen listen = Listen::yes)
      : state_(std::make_shared<State>(io)) {
    namespace asio = boost::asio;
    using asio::ip::tcp;
    auto& acceptor = state_->acceptor;
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind({asio::ip::address_v4::loopback(), 0});
    state_->port = acceptor.local_endpoint().port();
    if (listen == Listen::yes) this->listen();
  }
  ~FakeRedisNode() { shut_down(); }
  FakeRedisNode(const FakeRedisNode&) = delete;
  FakeRedisNode& operator=(const FakeRedisNode&) = delete;

  std::uint16_t port() const { return state_->port; }
  // host:port, as MOVED and ASK name a node.
  std::string name() const { return "127.0.0.1:" + std::to_string(state_->port); }
  const std::string& run_id() const { return state_->run_id; }
  // What the client reports as the origin of this node's replies.
  std::string origin() const { return state_->run_id.substr(0, 12); }
  Address address() const { return Address{"127.0.0.1", state_->port, state_->node_id}; }

  void on_command(Handler handler) { state_->handler = std::move(handler); }
  void set_slots(std::vector<SlotRange> slots) { state_->slots = std::move(slots); }
  void set(const std::string& key, std::string value) { state_->data[key] = std::move(value); }

  // Starts accepting (a node built with Listen::no).
  void listen() {
    if (state_->listening) return;
    state_->acceptor.listen();
    state_->listening = true;
    boost::asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                          boost::asio::detached);
  }

  // Every connection closed, and the port refuses new ones from now on.
  void shut_down() {
    namespace asio = boost::asio;
    using asio::ip::tcp;
    boost::system::error_code ignored;
    const bool was_open = state_->acceptor.is_open();
    state_->acceptor.close(ignored);
    for (auto& socket : state_->sockets) socket->close(ignored);
    state_->sockets.clear();
    state_->listening = false;
    if (!was_open) return;
    // Keep the port: bound, not listening.
    state_->placeholder.open(tcp::v4(), ignored);
    state_->placeholder.set_option(tcp::socket::reuse_address(true), ignored);
    state_->placeholder.bind({asio::ip::address_v4::loopback(), state_->port}, ignored);
  }
  // Accepts again on the same port after shut_down(): the node restarted.
  void restart() {
    namespace asio = boost::asio;
    using asio::ip::tcp;
    if (state_->acceptor.is_open()) return;
    boost::system::error_code ignored;
    state_->placeholder.close(ignored);
    auto& acceptor = state_->acceptor;
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind({asio::ip::address_v4::loopback(), state_->port});
    listen();
  }
  // Closes the open connections only; new ones are accepted.
  void drop_connections() {
    boost::system::error_code ignored;
    for (auto& socket : state_->sockets) socket->close(ignored);
    state_->sockets.clear();
  }

  const std::vector<Received>& received() const { return state_->received; }
  int connections() const { return state_->connections; }

  // Received commands named `name` (any case), and if `key` is given, whose
  // first argument is `key`.
  std::size_t count(std::string_view name, std::optional<std::string_view> key = {}) const {
    return static_cast<std::size_t>(
        std::count_if(state_->received.begin(), state_->received.end(), [&](const Received& r) {
          return !r.argv.empty() && same_word(r.argv[0], name) &&
                 (!key || (r.argv.size() > 1 && r.argv[1] == *key));
        }));
  }
  // Received commands that name `key` anywhere after the command name.
  std::size_t count_key(std::string_view key) const {
    return static_cast<std::size_t>(
        std::count_if(state_->received.begin(), state_->received.end(), [&](const Received& r) {
          return r.argv.size() > 1 &&
                 std::find(r.argv.begin() + 1, r.argv.end(), key) != r.argv.end();
        }));
  }
  // The commands one connection received, in order.
  std::vector<Argv> stream(int connection) const {
    std::vector<Argv> out;
    for (const auto& r : state_->received) {
      if (r.connection == connection) out.push_back(r.argv);
    }
    return out;
  }

 private:
  struct State {
    explicit State(boost::asio::io_context& io) : acceptor(io), placeholder(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::ip::tcp::socket placeholder;
    std::uint16_t port = 0;
    bool listening = false;
    std::string run_id = random_hex40();
    std::string node_id = random_hex40();
    std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets;
    Handler handler;
    std::vector<SlotRange> slots;
    std::map<std::string, std::string, std::less<>> data;
    std::vector<Received> received;
    int connections = 0;

    Answer answer(const Argv& argv) {
      if (handler) {
        if (auto custom = handler(argv)) return std::move(*custom);
      }
      const std::string_view name = argv.empty() ? std::string_view() : argv[0];
      if (same_word(name, "INFO")) {
        return wire::bulk("# Server\r\nredis_version:7.2.4\r\nredis_mode:cluster\r\nrun_id:" +
                          run_id + "\r\ntcp_port:" + std::to_string(port) + "\r\n");
      }
      if (same_word(name, "CLUSTER") && argv.size() == 2 && same_word(argv[1], "SLOTS")) {
        return cluster_slots();
      }
      if (same_word(name, "PING")) return wire::status("PONG");
      if (same_word(name, "ASKING")) return wire::status("OK");
      if (same_word(name, "SET") && argv.size() >= 3) {
        data[argv[1]] = argv[2];
        return wire::status("OK");
      }
      if (same_word(name, "GET") && argv.size() == 2) {
        auto it = data.find(argv[1]);
        return it == data.end() ? wire::nil() : wire::bulk(it->second);
      }
      if (same_word(name, "DEL") && argv.size() >= 2) {
        long long removed = 0;
        for (std::size_t i = 1; i < argv.size(); ++i) removed += data.erase(argv[i]) ? 1 : 0;
        return wire::integer(removed);
      }
      return wire::error("ERR unknown command '" + std::string(name) + "'");
    }

    std::string cluster_slots() const {
      auto node = [](const Address& a) {
        std::vector<std::string> fields;
        fields.push_back(wire::bulk(a.host));
        fields.push_back(wire::integer(a.port));
        fields.push_back(wire::bulk(a.id));
        return wire::array(fields);
      };
      std::vector<std::string> ranges;
      for (const auto& range : slots) {
        std::vector<std::string> parts;
        parts.push_back(wire::integer(range.first));
        parts.push_back(wire::integer(range.last));
        parts.push_back(node(range.master));
        for (const auto& replica : range.replicas) parts.push_back(node(replica));
        ranges.push_back(wire::array(parts));
      }
      return wire::array(ranges);
    }
  };

  static Argv argv_of(const Reply& request) {
    Argv argv;
    for (const auto& element : request.elements()) argv.push_back(element.as_string());
    return argv;
  }

  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    for (;;) {
      auto [ec, socket] = co_await state->acceptor.async_accept(kAwait);
      if (ec) co_return;
      const int id = ++state->connections;
      auto shared = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
      state->sockets.push_back(shared);
      boost::asio::co_spawn(state->acceptor.get_executor(), serve(state, shared, id),
                            boost::asio::detached);
    }
  }

  static boost::asio::awaitable<void> serve(std::shared_ptr<State> state,
                                            std::shared_ptr<boost::asio::ip::tcp::socket> socket,
                                            int id) {
    ReplyReader reader;
    std::array<char, 4096> buffer{};
    boost::system::error_code ignored;
    for (;;) {
      auto [ec, size] = co_await socket->async_read_some(boost::asio::buffer(buffer), kAwait);
      if (ec) co_return;
      if (!reader.feed(buffer.data(), size).ok()) {
        socket->close(ignored);
        co_return;
      }
      std::string out;
      bool hang_up = false;
      for (;;) {
        auto next = reader.next();
        if (!next.ok()) {
          hang_up = true;
          break;
        }
        if (!next->has_value()) break;
        Argv argv = argv_of(**next);
        state->received.push_back(Received{id, argv});
        Answer answer = state->answer(argv);
        if (answer.close) {
          hang_up = true;
          break;
        }
        out += answer.bytes;
      }
      if (!out.empty()) {
        auto [write_ec, written] =
            co_await boost::asio::async_write(*socket, boost::asio::buffer(out), kAwait);
        if (write_ec) co_return;
      }
      if (hang_up) {
        socket->close(ignored);
        co_return;
      }
    }
  }

  std::shared_ptr<State> state_;
};

}  // namespace betsdb::redis::testing
