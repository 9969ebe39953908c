// api::FanOutPacer: a quiet loop fans out at once; a busy one spaces its
// passes so that fan-out takes a tenth of it, never longer than max_delay.
#include "api/fan_out_pacer.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace betsdb::api {
namespace {

using namespace std::chrono_literals;
using Sample = FanOutPacer::Sample;

const FanOutPacer::Clock::time_point kStart{};

// `ms` after the start, with the loop's thread having run `cpu_ms` of it
// and the shard having answered `requests`.
Sample at(int ms, int cpu_ms, std::uint64_t requests = 0) {
  return {kStart + std::chrono::milliseconds(ms), std::chrono::milliseconds(cpu_ms), requests};
}

TEST(FanOutPacer, TheFirstPassGoesAtOnce) {
  FanOutPacer pacer({});
  EXPECT_EQ(pacer.next_pass(at(5, 5)), at(5, 5).wall);
}

TEST(FanOutPacer, AQuietLoopFansOutAtOnce) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  // 110 ms later, 5 ms of other work: 5% busy.
  EXPECT_EQ(pacer.next_pass(at(130, 25)), at(130, 25).wall);
}

TEST(FanOutPacer, ABusyLoopWaitsNineTimesThePassSoFanOutTakesATenth) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  // 110 ms later, busy all of it: 20 ms of fan-out, then 180 ms for the rest.
  EXPECT_EQ(pacer.next_pass(at(130, 130)), at(200, 0).wall);
  // Asked again past that point, it goes at once.
  EXPECT_EQ(pacer.next_pass(at(250, 250)), at(250, 0).wall);
}

TEST(FanOutPacer, ALoopServingRequestsOnAThirdOfACoreIsBusy) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  // The cores are shared: the loop got 40 ms of the 110 for its requests.
  EXPECT_EQ(pacer.next_pass(at(130, 60)), at(200, 0).wall);
}

TEST(FanOutPacer, AnApiWaitingOnTheDatabaseIsBusyByItsRequestRate) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0, 1000), at(20, 20, 1000));
  // 20 requests in 110 ms, little CPU: they wait on PostgreSQL.
  EXPECT_EQ(pacer.next_pass(at(130, 25, 1020)), at(200, 0).wall);
}

TEST(FanOutPacer, AFewRequestsDoNotMakeTheLoopBusy) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0, 1000), at(20, 20, 1000));
  EXPECT_EQ(pacer.next_pass(at(130, 25, 1005)), at(130, 0).wall);  // 45 a second
}

TEST(FanOutPacer, AWindowTooOldSaysNothingOfNow) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  // Busy, but over two seconds without events: that was then.
  EXPECT_EQ(pacer.next_pass(at(2000, 2000)), at(2000, 0).wall);
  // 50 ms later there is no new window to judge yet.
  EXPECT_EQ(pacer.next_pass(at(2050, 2050)), at(2050, 0).wall);
  // A whole busy window again: busy.
  pacer.pass_ran(at(2050, 2050), at(2070, 2070));
  EXPECT_EQ(pacer.next_pass(at(2110, 2110)), at(2250, 0).wall);
}

TEST(FanOutPacer, FanOutItselfDoesNotMakeTheLoopBusy) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  pacer.pass_ran(at(20, 20), at(100, 100));  // back to back: fan-out only
  pacer.pass_ran(at(100, 100), at(140, 140));
  EXPECT_EQ(pacer.next_pass(at(141, 141)), at(141, 0).wall);
}

TEST(FanOutPacer, JudgesBusynessOverAWholeWindowNotTheInstantAfterAPass) {
  FanOutPacer pacer({});
  pacer.pass_ran(at(0, 0), at(20, 20));
  pacer.pass_ran(at(120, 25), at(160, 65));  // quiet between the passes
  // The next batch was waiting when the pass ended: 1 ms, all busy, is no window.
  EXPECT_EQ(pacer.next_pass(at(161, 66)), at(161, 0).wall);
}

TEST(FanOutPacer, HoldsEventsForAtMostTheMaximumDelayAfterThePass) {
  FanOutPacer::Settings settings;
  settings.max_delay = 200ms;
  FanOutPacer pacer(settings);
  pacer.pass_ran(at(0, 0), at(50, 50));
  EXPECT_EQ(pacer.next_pass(at(160, 160)), at(250, 0).wall);
}

TEST(FanOutPacer, AHoldLongerThanASecondStillCountsAsAWindow) {
  FanOutPacer::Settings settings;
  settings.max_delay = 2000ms;
  FanOutPacer pacer(settings);
  pacer.pass_ran(at(0, 0), at(200, 200));
  EXPECT_EQ(pacer.next_pass(at(310, 310)), at(2000, 0).wall);  // 9 x 200 ms
  // The held pass ran, the loop busy all along: the next is held too.
  pacer.pass_ran(at(2000, 2000), at(2200, 2200));
  EXPECT_EQ(pacer.next_pass(at(2210, 2210)), at(4000, 0).wall);
}

TEST(FanOutPacer, AZeroMaximumDelayNeverHoldsEvents) {
  FanOutPacer::Settings settings;
  settings.max_delay = 0ms;
  FanOutPacer pacer(settings);
  pacer.pass_ran(at(0, 0), at(20, 20));
  EXPECT_EQ(pacer.next_pass(at(130, 130)), at(130, 0).wall);
}

TEST(FanOutPacer, ReadsTheThreadsCpuClock) {
  const Sample before = FanOutPacer::sample_now();
  volatile std::uint64_t sink = 0;
  for (std::uint64_t i = 0; i < 20'000'000; ++i) sink = sink + i;
  const Sample after = FanOutPacer::sample_now();
  EXPECT_GT(after.thread_cpu, before.thread_cpu);
  EXPECT_GE(after.wall, before.wall);
}

}  // namespace
}  // namespace betsdb::api
