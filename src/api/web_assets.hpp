// The web UI's static files (web/) and the demo fixtures (data/fixtures/),
// compiled into the binary by cmake/embed_web.cmake so that `betsdb` serves
// the UI from any working directory, offline, with no files to deploy.
//
// Thread-safety: the table is built once (a function-local static) and is
// immutable afterwards; every view points into static storage, so it may be
// read from any thread for the life of the process.
#pragma once

#include <span>
#include <string_view>

namespace betsdb {

struct WebAsset {
  std::string_view path;          // URL path, e.g. "/index.html", "/js/api.js", "/fixtures/x.json"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;          // the file's bytes
};

// Every embedded asset, each path once (order unspecified). Defined in the
// generated web_assets_data.cpp.
std::span<const WebAsset> embedded_web_assets();

}  // namespace betsdb
