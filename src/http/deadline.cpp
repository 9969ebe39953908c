#include "http/deadline.hpp"

namespace betsdb::http {

Deadline::Deadline(boost::asio::ip::tcp::socket& socket)
    : state_(std::make_shared<State>(socket)) {}

Deadline::~Deadline() {
  state_->socket = nullptr;
  state_->timer.cancel();
}

void Deadline::expires_after(Clock::duration d) {
  State& s = *state_;
  s.at = Clock::now() + d;
  if (!s.waiting || s.at < s.armed_for) arm(state_);
}

void Deadline::expires_never() {
  // A pending wait stays: when it ends it finds no deadline and stops.
  state_->at = Clock::time_point::max();
}

bool Deadline::expired() const {
  return state_->expired;
}

void Deadline::arm(const std::shared_ptr<State>& state) {
  State& s = *state;
  s.armed_for = s.at;
  s.waiting = true;
  const unsigned arming = ++s.arming;
  // Replacing the expiry cancels the previous wait: its handler sees a stale `arming`.
  s.timer.expires_at(s.at);
  s.timer.async_wait([state, arming](const boost::system::error_code&) {
    State& s = *state;
    if (arming != s.arming || s.socket == nullptr) return;
    s.waiting = false;
    if (s.at == Clock::time_point::max()) return;
    if (Clock::now() < s.at) {
      arm(state);  // the deadline moved later meanwhile
      return;
    }
    s.expired = true;
    boost::system::error_code ignored;
    s.socket->close(ignored);
  });
}

}  // namespace betsdb::http
