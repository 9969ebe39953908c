-- --big: paged bet lists that always miss the cache, every URL distinct.
-- BENCH_MODE=user: GET /v1/users/{id}/bets?limit=20&offset=O with the user's
--   token, rotating over users first, then pages (O = 0, 20, .., 80).
-- BENCH_MODE=admin: GET /v1/bets?limit=20&offset=i with the admin token.
-- BENCH_MODE=user_stake: GET /v1/users/{id}/bets?limit=20&max_stake=S with
--   the user's token, rotating over users, S = 100,000,000 - i: above every
--   seeded stake, so each answer is the user's first page (same rows, same
--   cost), under a key that never repeats (bench/run --cluster).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local mode = bench.env("BENCH_MODE")
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local PAGES = 5
local users, admin
if mode == "user" or mode == "user_stake" then
  users = bench.read_users(bench.env("BENCH_USERS"))
else
  admin = "Bearer " .. bench.env("BENCH_ADMIN_TOKEN")
end

function request()
  local idx = start + tid + k * threads
  k = k + 1
  if mode == "user_stake" then
    local u = users[idx % #users + 1]
    return wrk.format("GET", "/v1/users/" .. u.id .. "/bets?limit=20&max_stake=" .. (100000000 - idx),
                      { ["Authorization"] = "Bearer " .. u.token })
  end
  if mode == "user" then
    local u = users[idx % #users + 1]
    local offset = (math.floor(idx / #users) % PAGES) * 20
    return wrk.format("GET", "/v1/users/" .. u.id .. "/bets?limit=20&offset=" .. offset,
                      { ["Authorization"] = "Bearer " .. u.token })
  end
  return wrk.format("GET", "/v1/bets?limit=20&offset=" .. idx, { ["Authorization"] = admin })
end

bench.track_statuses()
bench.reporter(start)
