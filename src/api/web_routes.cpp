// The web UI: one GET route per embedded static file (see api/web_assets.hpp),
// with "/" serving index.html. The routes carry no guard: the files are
// public and the page itself talks to the API with the user's token.
#include <string>

#include "api/api_shard.hpp"
#include "api/web_assets.hpp"

namespace betsdb::api {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kIndexPath = "/index.html";

// Revalidate on every load so that a new build's UI is picked up at once;
// the files are small and served from memory.
constexpr std::string_view kCacheControl = "no-cache";

// The page loads only its own files and talks only to its own origin: a
// stored-XSS bug could then neither pull in nor post to anything else.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

http::Response asset_response(const WebAsset& asset) {
  http::Response r;
  r.status = 200;
  r.content_type = std::string(asset.content_type);
  r.body = std::string(asset.body);
  r.headers.push_back({"Cache-Control", std::string(kCacheControl)});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (asset.content_type.starts_with("text/html")) {
    r.headers.push_back({"Content-Security-Policy", std::string(kContentSecurityPolicy)});
    r.headers.push_back({"Referrer-Policy", "no-referrer"});
  }
  return r;
}

void add_asset_route(http::Router& router, std::string path, const WebAsset& asset) {
  router.add({http::Method::get,
              std::move(path),
              {},
              [&asset](http::Request&) -> asio::awaitable<http::Response> {
                co_return asset_response(asset);
              }});
}

}  // namespace

void add_web_routes(http::Router& router, ApiShard& /*shard*/) {
  for (const WebAsset& asset : embedded_web_assets()) {
    add_asset_route(router, std::string(asset.path), asset);
    if (asset.path == kIndexPath) add_asset_route(router, "/", asset);
  }
}

}  // namespace betsdb::api
