#include "http/request_metrics.hpp"

#include <gtest/gtest.h>

#include "http/server.hpp"

namespace betsdb::http {
namespace {

using namespace std::chrono_literals;

Handler no_handler() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

Router sample_router() {
  Router router;
  router.add({Method::get, "/v1/users/{id}", {}, no_handler()});
  router.add({Method::post, "/v1/users", {}, no_handler()});
  router.add({Method::get, "/healthz", {}, no_handler()});
  router.add({Method::patch, "/v1/users/{id}", {}, no_handler()});
  return router;
}

TEST(RequestMetrics, CountsByRouteTemplateMethodAndStatus) {
  const Router router = sample_router();
  RequestMetrics metrics(router);
  Request req;
  req.method = Method::get;
  req.path = "/v1/users/7";
  req.route = router.routes()[0].pattern;
  metrics.record(RequestRecord{&req, 200, 3ms});
  metrics.record(RequestRecord{&req, 200, 4ms});
  metrics.record(RequestRecord{&req, 404, 1ms});

  const auto& slot = metrics.find("/v1/users/{id}", Method::get);
  EXPECT_EQ(slot.route, "/v1/users/{id}");
  EXPECT_EQ(slot.requests(200), 2u);
  EXPECT_EQ(slot.requests(404), 1u);
  EXPECT_EQ(slot.latency.snapshot().count(), 3u);
  // Same template, other method: its own slot, untouched.
  EXPECT_EQ(metrics.find("/v1/users/{id}", Method::patch).requests(200), 0u);
}

TEST(RequestMetrics, RequestsWithoutARouteGoToTheUnmatchedSlotOfTheirMethod) {
  RequestMetrics metrics(sample_router());
  metrics.record("", Method::get, 404, 1ms);
  metrics.record("", Method::del, 405, 1ms);
  metrics.record("/no/such/template", Method::get, 404, 1ms);
  // A template that exists but not under this method.
  metrics.record("/healthz", Method::post, 405, 1ms);

  const auto& get = metrics.find("", Method::get);
  EXPECT_EQ(get.route, kUnmatchedRoute);
  EXPECT_EQ(get.requests(404), 2u);
  EXPECT_EQ(metrics.find("", Method::del).requests(405), 1u);
  EXPECT_EQ(metrics.find("", Method::post).requests(405), 1u);
  EXPECT_EQ(metrics.find("/healthz", Method::get).requests(405), 0u);
}

TEST(RequestMetrics, MakesOneSlotPerRouteAndOnePerMethodForUnmatched) {
  RequestMetrics metrics(sample_router());
  EXPECT_EQ(metrics.slots().size(), 4u + 8u);
}

TEST(RequestMetrics, StatusOutsideTheHttpRangeIsCountedApart) {
  RequestMetrics metrics(sample_router());
  metrics.record("/healthz", Method::get, 0, 1ms);
  metrics.record("/healthz", Method::get, 600, 1ms);
  EXPECT_EQ(metrics.find("/healthz", Method::get).other_status.value(), 2u);
}

}  // namespace
}  // namespace betsdb::http
