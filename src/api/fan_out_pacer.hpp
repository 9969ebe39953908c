// When a shard's next live-stream fan-out pass may run (api/stream_hub.hpp).
//
// A pass writes every new event to every client of the shard: one send per
// client, 10,000 clients some 25-50 ms of the loop and as much again of the
// kernel's time. While the shard has little else to do, each batch of events
// goes out as soon as it arrives. While it serves the API (it answered
// requests at a sustained rate, or its thread was on a core for a quarter of
// the time outside passes), passes are spaced so that fan-out takes at most
// a tenth of the loop, and the events that arrive in between go out
// together: each client gets them in one write (conflation, as Betfair's
// stream does). Clients still get every event, in order, at most
// `max_delay` after the previous pass. A send costs the kernel about the
// same for ten events as for one, so under load the API keeps its cores.
//
// Pure: the caller supplies the samples, so tests can script them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace betsdb::api {

class FanOutPacer final {
 public:
  using Clock = std::chrono::steady_clock;

  // Read together on the loop's thread: the wall clock, the thread's CPU
  // time, and how many requests the shard has answered so far. CPU time,
  // not time runnable: a loop waiting for a core taken by the other
  // shard's pass or by other processes has no work of its own to make room
  // for. The request count catches an API that waits on the database
  // rather than the CPU (placing bets), which CPU time alone misses.
  struct Sample {
    Clock::time_point wall;
    std::chrono::nanoseconds thread_cpu{0};
    std::uint64_t requests = 0;
  };
  // The calling thread's clocks; `requests` is left to the caller.
  static Sample sample_now();

  struct Settings {
    // Busy: requests answered at this rate or more, or the thread on a core
    // for this share of the time outside passes.
    double busy_requests_per_second = 100;
    double busy_cpu_share = 0.25;
    // Busyness is judged over windows at least this long: right after a
    // long pass the next batch is often already waiting, and the instant
    // between says nothing. A window older than `forget_after` (no events
    // for a while) says nothing of now either: it starts over, not busy.
    std::chrono::milliseconds window{100};
    std::chrono::milliseconds forget_after{1000};
    // While busy, fan-out gets at most this share of the loop.
    double fan_out_share = 0.1;
    // The longest a busy loop holds events back; zero never holds them.
    std::chrono::milliseconds max_delay{1000};
  };

  explicit FanOutPacer(Settings settings);

  // When events that arrive at `now` may go out: `now`, or later while busy.
  Clock::time_point next_pass(const Sample& now);
  void pass_ran(const Sample& started, const Sample& ended);

 private:
  void observe(const Sample& now);
  void start_window(const Sample& now);

  Settings settings_;
  std::optional<Sample> last_end_;
  Clock::duration last_duration_{0};
  // Every pass's time so far, and at the start of the window being judged;
  // busy_ is the last judged window's verdict.
  Clock::duration fan_out_wall_{0};
  std::chrono::nanoseconds fan_out_cpu_{0};
  std::optional<Sample> window_start_;
  Clock::duration fan_out_wall_at_window_start_{0};
  std::chrono::nanoseconds fan_out_cpu_at_window_start_{0};
  bool busy_ = false;
};

}  // namespace betsdb::api
