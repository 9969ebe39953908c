-- Scenario "place": POST /v1/bets, every request a distinct
-- (user, match, selection), so nearly all succeed (no duplicate_bet, and
-- consecutive requests belong to different users, so no lock conflicts).
-- Index i maps to user u = i mod U, then, with k = i / U, match (k + u) mod M
-- and selection k / M: distinct for every i below U x M x 3, and
-- consecutive requests fall on different matches (a match's placements take
-- turns on its exposure row, so bets spread over many matches must not all
-- land on one). Runs continue from the previous run's `next` (BENCH_START)
-- so rounds never repeat a bet.
-- Variants (bench/lib/scenarios.sh):
--   BENCH_WITH_ODDS=1  "place_odds": each bet carries the odds the seed set
--                      for its selection, with accept_price_change "none";
--   BENCH_HOT=1        "place_hot": every bet on the first match of
--                      BENCH_MATCHES (one match with a liability limit, a
--                      cup final's kick-off): user i mod U, selection i / U.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local matches = bench.read_lines(bench.env("BENCH_MATCHES"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local stake = tonumber(bench.env("BENCH_STAKE", "100"))
local with_odds = bench.env("BENCH_WITH_ODDS", "0") == "1"
local hot = bench.env("BENCH_HOT", "0") == "1"
local U, M = #users, #matches
if hot then M = 1 end
-- The seed's prices (bench/seed.py), by selection.
local ODDS = { ["1"] = "2.10", ["X"] = "3.25", ["2"] = "3.60" }

function request()
  local idx = start + tid + k * threads
  k = k + 1
  local u = users[idx % U + 1]
  local rest = math.floor(idx / U)
  local match_id = matches[(rest + idx % U) % M + 1]
  local selection = SELECTIONS[math.floor(rest / M) % 3 + 1]
  local body
  if with_odds then
    body = string.format(
      '{"user_id":%s,"match_id":%s,"selection":"%s","stake":%d,"odds":%s,"accept_price_change":"none"}',
      u.id, match_id, selection, stake, ODDS[selection])
  else
    body = string.format('{"user_id":%s,"match_id":%s,"selection":"%s","stake":%d}',
                         u.id, match_id, selection, stake)
  end
  return wrk.format("POST", "/v1/bets", {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
  }, body)
end

bench.track_statuses()
bench.reporter(start)
