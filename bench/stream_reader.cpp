// The clients of bench/stream.py: holds every live-stream connection in one
// epoll loop and records, for every event id, how many clients received it
// and when the first and the last one did (CLOCK_MONOTONIC, the clock of
// Python's time.monotonic(), so the writer's timestamps compare directly).
//
// Why C++ and not the Python it replaces: at 10,000 clients and 20 events a
// second the harness reads 200,000 events a second. Python took 63-90% of
// one of the machine's two cores for that, which the server under test then
// lacked, and its own reading lag was most of the "fan-out latency".
//
// Talks to stream.py over stdin/stdout, one line each:
//   stdout  "ready {json}"         once every client is streaming (or the
//                                  connect deadline passed): counts, failures
//   stdin   "snapshot"             -> "snapshot {json}": counters, and per
//                                  event [id, count, first, last]; the kind
//                                  and data line of an event only in the
//                                  first snapshot that lists it
//   stdin   "close", or its end    -> closes every socket, a last snapshot, exit
//
// Built by stream.py (g++, the standard library and Linux only).
//
//   stream_reader --host 127.0.0.1 --port 8080 --clients 10000
//                 [--target betsdb|redis] [--path /v1/stream]
//                 [--connect-parallel 256] [--connect-timeout S] [--retry-delay S]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string target = "betsdb";
  std::string path = "/v1/stream";
  int clients = 10000;
  int connect_parallel = 256;
  double connect_timeout = 0;
  double retry_delay = 1.0;
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--host")
      o.host = value;
    else if (name == "--port")
      o.port = std::atoi(value);
    else if (name == "--target")
      o.target = value;
    else if (name == "--path")
      o.path = value;
    else if (name == "--clients")
      o.clients = std::atoi(value);
    else if (name == "--connect-parallel")
      o.connect_parallel = std::atoi(value);
    else if (name == "--connect-timeout")
      o.connect_timeout = std::atof(value);
    else if (name == "--retry-delay")
      o.retry_delay = std::atof(value);
    else
      return false;
  }
  if (argc % 2 == 0 || o.port <= 0 || o.clients <= 0 || o.connect_parallel <= 0) return false;
  if (o.target != "betsdb" && o.target != "redis") return false;
  if (o.connect_timeout <= 0) o.connect_timeout = 30 + o.clients / 200.0;
  return true;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct Event {
  std::string id;
  std::string kind = "message";
  std::string data;
  long count = 0;
  double first = 0;
  double last = 0;
  bool reported = false;  // kind and data already sent in a snapshot
};

enum class State { connecting, head, streaming };

struct Client {
  State state = State::connecting;
  std::string pending;  // the head so far, or the part after the last complete event
};

class Reader {
 public:
  explicit Reader(Options options) : o_(std::move(options)), epoll_(epoll_create1(0)) {
    if (o_.target == "redis") {
      request_ = "SUBSCRIBE bench:stream\r\n";
    } else {
      request_ = "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" +
                 std::to_string(o_.port) +
                 "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    }
    address_.sin_family = AF_INET;
    address_.sin_port = htons(static_cast<uint16_t>(o_.port));
    inet_pton(AF_INET, o_.host.c_str(), &address_.sin_addr);
    to_open_ = o_.clients;
  }

  void connect_all() {
    const double started = now();
    connect_deadline_ = started + o_.connect_timeout;
    std::vector<epoll_event> ready(1024);
    while ((to_open_ || opening_ || !retry_at_.empty()) && now() < connect_deadline_) {
      open_more();
      const int n = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()), 50);
      for (int i = 0; i < n; ++i) {
        const int fd = ready[i].data.fd;
        auto it = clients_.find(fd);
        if (it == clients_.end()) continue;
        if (it->second.state == State::streaming) {
          on_read(fd, it->second);
        } else {
          handshake(fd, it->second);
        }
      }
    }
    std::vector<int> unfinished;
    for (const auto& [fd, client] : clients_) {
      if (client.state != State::streaming) unfinished.push_back(fd);
    }
    for (const int fd : unfinished) close_client(fd);
    opening_ = 0;
    std::string samples = "[";
    for (const auto& s : fail_samples_) samples += (samples.size() > 1 ? "," : "") + json_string(s);
    std::printf(
        "ready "
        "{\"streaming\":%d,\"refused\":%ld,\"failed\":%ld,\"fail_samples\":%s,\"seconds\":%.3f}\n",
        streaming_, refused_, failed_, (samples + "]").c_str(), now() - started);
    std::fflush(stdout);
  }

  // Reads until told to close (or stdin ends); answers snapshots meanwhile.
  void stream() {
    epoll_event in{};
    in.events = EPOLLIN;
    in.data.fd = STDIN_FILENO;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, STDIN_FILENO, &in);
    std::vector<epoll_event> ready(4096);
    while (true) {
      const int n = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()), 1000);
      for (int i = 0; i < n; ++i) {
        const int fd = ready[i].data.fd;
        if (fd == STDIN_FILENO) {
          if (!on_command()) return;
          continue;
        }
        auto it = clients_.find(fd);
        if (it != clients_.end()) on_read(fd, it->second);
      }
    }
  }

  void close_all() {
    std::vector<int> fds;
    for (const auto& entry : clients_) fds.push_back(entry.first);
    for (const int fd : fds) close_client(fd);
  }

  void print_snapshot() {
    std::string out = "snapshot {\"streaming\":" + std::to_string(streaming_) +
                      ",\"dropped\":" + std::to_string(dropped_) +
                      ",\"reads\":" + std::to_string(reads_) +
                      ",\"bytes\":" + std::to_string(bytes_) + ",\"events\":[";
    char numbers[96];
    bool comma = false;
    for (auto& event : events_) {
      if (comma) out += ',';
      comma = true;
      std::snprintf(numbers, sizeof numbers, ",%ld,%.6f,%.6f", event.count, event.first,
                    event.last);
      out += "[" + json_string(event.id) + numbers;
      if (!event.reported) {
        out += "," + json_string(event.kind) + "," + json_string(event.data);
        event.reported = true;
      }
      out += "]";
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }

 private:
  void open_more() {
    const double t = now();
    while (opening_ < o_.connect_parallel) {
      if (to_open_) {
        --to_open_;
      } else if (!retry_at_.empty() && retry_at_.front() <= t) {
        retry_at_.pop_front();
      } else {
        return;
      }
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        fail(std::string("socket: ") + std::strerror(errno));
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 &&
          errno != EINPROGRESS) {
        fail(std::string("connect: ") + std::strerror(errno));
        ::close(fd);
        continue;
      }
      clients_.emplace(fd, Client{});
      watch(fd, EPOLLOUT, EPOLL_CTL_ADD);
      ++opening_;
    }
  }

  void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_, op, fd, &ev);
  }

  void fail(std::string why) {
    ++failed_;
    if (fail_samples_.size() < 5) fail_samples_.push_back(std::move(why));
  }

  void give_up(int fd, std::string why) {
    --opening_;
    close_client(fd);
    fail(std::move(why));
  }

  void close_client(int fd) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
  }

  void handshake(int fd, Client& client) {
    if (client.state == State::connecting) {
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error) return give_up(fd, std::string("connect: ") + std::strerror(error));
      if (send(fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request_.size())) {
        return give_up(fd, std::string("send: ") + std::strerror(errno));
      }
      client.state = State::head;
      watch(fd, EPOLLIN, EPOLL_CTL_MOD);
      return;
    }
    const ssize_t n = read(fd, buffer_, sizeof buffer_);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      return give_up(fd, "closed before the response head: " + client.pending.substr(0, 80));
    }
    client.pending.append(buffer_, static_cast<size_t>(n));
    const std::string_view head = client.pending;
    std::size_t body_at = 0;
    if (o_.target == "redis") {
      // *3 $9 subscribe $N channel :count — the count's line ends the confirmation.
      const auto kind = head.find("subscribe\r\n");
      const auto count = kind == std::string_view::npos ? kind : head.find("\r\n:", kind);
      const auto end = count == std::string_view::npos ? count : head.find("\r\n", count + 3);
      if (end == std::string_view::npos) return;
      body_at = end + 2;
    } else {
      const auto end = head.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (head.size() > 16384) give_up(fd, "response head over 16 KiB");
        return;
      }
      const std::string_view status_line = head.substr(0, head.find("\r\n"));
      const int code =
          status_line.size() > 12 ? std::atoi(std::string(status_line.substr(9, 3)).c_str()) : 0;
      if (code != 200) {
        if (code == 503 && now() < connect_deadline_) {
          --opening_;
          close_client(fd);
          ++refused_;
          retry_at_.push_back(now() + o_.retry_delay);
        } else {
          give_up(fd, "GET " + o_.path + " -> " + std::string(status_line));
        }
        return;
      }
      std::string lower(head.substr(0, end));
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find("chunked") != std::string::npos) {
        // Events are found by their lines; chunk-size lines could split one.
        return give_up(fd,
                       "the stream is chunked (Transfer-Encoding): not supported by this harness");
      }
      body_at = end + 4;
    }
    --opening_;
    ++streaming_;
    client.state = State::streaming;
    client.pending.erase(0, body_at);
  }

  // The hot path: one read, then every complete event in it.
  void on_read(int fd, Client& client) {
    const ssize_t n = read(fd, buffer_, sizeof buffer_);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_client(fd);
      --streaming_;
      ++dropped_;
      return;
    }
    const double t = now();
    ++reads_;
    bytes_ += n;
    std::string_view data(buffer_, static_cast<size_t>(n));
    std::string joined;
    if (!client.pending.empty()) {
      joined = std::move(client.pending);
      client.pending.clear();
      joined.append(data);
      data = joined;
    }
    // Complete events only (SSE: "\n\n"); keep the rest for the next read.
    const auto end = data.rfind("\n\n");
    if (end == std::string_view::npos) {
      client.pending.assign(data);
      return;
    }
    client.pending.assign(data.substr(end + 2));
    data = data.substr(0, end + 2);
    for (auto i = data.find("id: "); i != std::string_view::npos; i = data.find("id: ", i + 4)) {
      if (i > 0 && data[i - 1] != '\n') continue;  // not at a line start
      const auto line_end = data.find('\n', i);
      // A block of its id alone is no event: the position a new client is
      // given before any event (docs/api.md, "Live stream").
      if (line_end + 1 < data.size() && data[line_end + 1] == '\n') continue;
      receive(data.substr(i + 4, line_end - i - 4), data, line_end, t);
    }
  }

  void receive(std::string_view id, std::string_view data, std::size_t line_end, double t) {
    auto it = index_.find(std::string(id));
    if (it != index_.end()) {
      Event& event = events_[it->second];
      ++event.count;
      event.last = t;
      return;
    }
    Event event;
    event.id = id;
    event.count = 1;
    event.first = event.last = t;
    // Only the first receipt reads the event's other lines.
    const auto block_end = data.find("\n\n", line_end);
    std::string_view block = data.substr(line_end + 1, block_end - line_end - 1);
    while (!block.empty()) {
      const auto nl = block.find('\n');
      const std::string_view line = block.substr(0, nl);
      if (line.starts_with("event: ")) event.kind = line.substr(7);
      if (line.starts_with("data: ")) event.data = line.substr(6);
      if (nl == std::string_view::npos) break;
      block.remove_prefix(nl + 1);
    }
    index_.emplace(event.id, events_.size());
    events_.push_back(std::move(event));
  }

  // False when the reader should stop.
  bool on_command() {
    const ssize_t n = read(STDIN_FILENO, buffer_, sizeof buffer_);
    if (n <= 0) return false;
    commands_.append(buffer_, static_cast<size_t>(n));
    std::size_t nl;
    while ((nl = commands_.find('\n')) != std::string::npos) {
      const std::string command = commands_.substr(0, nl);
      commands_.erase(0, nl + 1);
      if (command == "close") return false;
      if (command == "snapshot") print_snapshot();
    }
    return true;
  }

  Options o_;
  int epoll_;
  std::string request_;
  sockaddr_in address_{};
  std::unordered_map<int, Client> clients_;
  std::deque<double> retry_at_;
  double connect_deadline_ = 0;
  int to_open_ = 0;
  int opening_ = 0;
  int streaming_ = 0;
  long refused_ = 0;
  long failed_ = 0;
  long dropped_ = 0;
  long reads_ = 0;
  long bytes_ = 0;
  std::vector<std::string> fail_samples_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<Event> events_;
  std::string commands_;
  char buffer_[65536];
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: stream_reader --host H --port P --clients N [--target betsdb|redis] "
                 "[--path P] [--connect-parallel N] [--connect-timeout S] [--retry-delay S]\n");
    return 2;
  }
  auto reader = std::make_unique<Reader>(options);
  reader->connect_all();
  reader->stream();
  reader->close_all();
  reader->print_snapshot();
  return 0;
}
