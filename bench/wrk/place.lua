-- Scenario "place": POST /v1/bets, every request a distinct
-- (user, match, selection), so nearly all succeed (no duplicate_bet, and
-- consecutive requests belong to different users, so no lock conflicts).
-- Index i maps to user i mod U, then match, then selection; runs continue
-- from the previous run's `next` (BENCH_START) so rounds never repeat a bet.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local matches = bench.read_lines(bench.env("BENCH_MATCHES"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local stake = tonumber(bench.env("BENCH_STAKE", "100"))
local U, M = #users, #matches

function request()
  local idx = start + tid + k * threads
  k = k + 1
  local u = users[idx % U + 1]
  local rest = math.floor(idx / U)
  local match_id = matches[rest % M + 1]
  local selection = SELECTIONS[math.floor(rest / M) % 3 + 1]
  local body = string.format('{"user_id":%s,"match_id":%s,"selection":"%s","stake":%d}',
                             u.id, match_id, selection, stake)
  return wrk.format("POST", "/v1/bets", {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
  }, body)
end

bench.track_statuses()
bench.reporter(start)
