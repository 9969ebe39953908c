#include "api/fan_out_pacer.hpp"

#include <algorithm>
#include <ctime>

namespace betsdb::api {

namespace {
double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

FanOutPacer::Sample FanOutPacer::sample_now() {
  timespec cpu{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  return {Clock::now(), std::chrono::seconds(cpu.tv_sec) + std::chrono::nanoseconds(cpu.tv_nsec)};
}

FanOutPacer::FanOutPacer(Settings settings) : settings_(settings) {
  // A window spans a whole hold: one forgotten for its length would end
  // every long hold as "not busy", and the next pass would go at once.
  settings_.forget_after = std::max(settings_.forget_after, 2 * settings_.max_delay);
}

FanOutPacer::Clock::time_point FanOutPacer::next_pass(const Sample& now) {
  observe(now);
  if (!busy_ || !last_end_ || settings_.max_delay.count() == 0) return now.wall;
  const auto gap = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(last_duration_) * (1 - settings_.fan_out_share) /
      settings_.fan_out_share);
  return std::max(now.wall, last_end_->wall + std::min<Clock::duration>(gap, settings_.max_delay));
}

void FanOutPacer::pass_ran(const Sample& started, const Sample& ended) {
  last_duration_ = ended.wall - started.wall;
  last_end_ = ended;
  fan_out_wall_ += last_duration_;
  fan_out_cpu_ += ended.thread_cpu - started.thread_cpu;
  observe(ended);
}

void FanOutPacer::observe(const Sample& now) {
  if (!window_start_) return start_window(now);
  const auto length = now.wall - window_start_->wall;
  if (length < settings_.window) return;
  if (length > settings_.forget_after) {
    busy_ = false;
    return start_window(now);
  }
  const auto requests = static_cast<double>(now.requests - window_start_->requests);
  const auto other_cpu =
      (now.thread_cpu - window_start_->thread_cpu) - (fan_out_cpu_ - fan_out_cpu_at_window_start_);
  const auto outside_passes = std::max<Clock::duration>(
      length - (fan_out_wall_ - fan_out_wall_at_window_start_), length / 10);
  busy_ = requests >= settings_.busy_requests_per_second * seconds(length) ||
          seconds(other_cpu) >= settings_.busy_cpu_share * seconds(outside_passes);
  start_window(now);
}

void FanOutPacer::start_window(const Sample& now) {
  window_start_ = now;
  fan_out_wall_at_window_start_ = fan_out_wall_;
  fan_out_cpu_at_window_start_ = fan_out_cpu_;
}

}  // namespace betsdb::api
