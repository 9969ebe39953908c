-- Scenario "user_bets": GET /v1/users/{id}/bets?limit=20, rotating over the
-- users that have bets, each with its own token (cached per user).
-- BENCH_PATH (default "/v1/users/%s/bets?limit=20", %s the user id) lets
-- bench/run reuse it to warm the server's token cache: GET /v1/users/%s.
-- Requests are built once, not per call: wrk's own advice for fast servers.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local path = bench.env("BENCH_PATH", "/v1/users/%s/bets?limit=20")
local start = tonumber(bench.env("BENCH_START", "0"))

local requests = {}
for i, u in ipairs(users) do
  requests[i] = wrk.format("GET", string.format(path, u.id), { ["Authorization"] = "Bearer " .. u.token })
end

function request()
  local idx = start + tid + k * threads
  k = k + 1
  return requests[idx % #requests + 1]
end

bench.track_statuses()
bench.reporter(start)
