-- A light, paced read beside a heavier scenario (the signin scenario's
-- GET /v1/matches/{id}): each connection waits BENCH_DELAY_MS after every
-- answer before its next request, so the read takes little CPU from the
-- scenario it watches and its latency shows whether the server's event
-- loops stay responsive (a loop blocked for one password hash would show
-- up as tens of ms). The URL comes from the command line.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local delay_ms = tonumber(bench.env("BENCH_DELAY_MS", "10"))

function delay()
  return delay_ms
end

bench.track_statuses()
bench.reporter()
