-- Scenario "search" (issue 23): GET /v1/matches?q=TERM&limit=20 plus
-- BENCH_QUERY (e.g. "&status=open&sort=-date"), public. BENCH_TERMS holds
-- one term a line; request number k of thread tid takes term
-- start + tid + k * threads (mod the list), so a run walks the list once
-- before any term repeats: with a list longer than a run's requests, every
-- request is a new cache key (a miss, answered by PostgreSQL); with a short
-- list (search_hit) every request after the first pass is a cache hit.
-- Terms are percent-encoded (spaces, "/" of "2026/27").
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local query = bench.env("BENCH_QUERY", "")
local terms = bench.read_lines(bench.env("BENCH_TERMS"))

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local paths = {}
for i, t in ipairs(terms) do
  paths[i] = "/v1/matches?q=" .. encode(t) .. "&limit=20" .. query
end

function request()
  local idx = start + tid + k * threads
  k = k + 1
  return wrk.format("GET", paths[idx % #paths + 1])
end

bench.track_statuses()
bench.reporter(start)
