-- Scenario "acca" (issue 19): POST /v1/bets, every request a 4-leg
-- accumulator that is new for its user, placed as `place` places singles
-- (bench/wrk/place.lua): the same users, the same matches (BENCH_MATCHES,
-- the place set), the same stake, legs without odds (each takes the current
-- price), consecutive requests by different users.
-- Index i maps to user u = i mod U, then, with k = i / U, the legs are on
-- the four consecutive matches starting at s = (k + u) mod M (wrapping), and
-- the leg on match s + j takes selection digit j (base 3) of q = k / M. The
-- set of matches gives s back, and then the selections give q: every user's
-- accumulators are distinct sets of (match, selection) for k < M x 81, so
-- none is a duplicate_bet. Runs continue from the previous run's `next`
-- (BENCH_START) so rounds never repeat a bet.
--   BENCH_LEGS=N       legs per accumulator (default 4, 2..10, at most M);
--   BENCH_WITH_ODDS=1  each leg carries the seed's price for its selection,
--                      with accept_price_change "none".
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local matches = bench.read_lines(bench.env("BENCH_MATCHES"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local stake = tonumber(bench.env("BENCH_STAKE", "100"))
local legs = tonumber(bench.env("BENCH_LEGS", "4"))
local with_odds = bench.env("BENCH_WITH_ODDS", "0") == "1"
local U, M = #users, #matches
assert(legs >= 2 and legs <= 10 and legs <= M, "acca.lua: BENCH_LEGS must be 2..10 and at most the matches")
-- The seed's prices (bench/seed.py), by selection.
local ODDS = { ["1"] = "2.10", ["X"] = "3.25", ["2"] = "3.60" }

function request()
  local idx = start + tid + k * threads
  k = k + 1
  local u = users[idx % U + 1]
  local rest = math.floor(idx / U)
  local s = (rest + idx % U) % M
  local q = math.floor(rest / M)
  local parts = {}
  for j = 0, legs - 1 do
    local selection = SELECTIONS[q % 3 + 1]
    q = math.floor(q / 3)
    if with_odds then
      parts[#parts + 1] = string.format('{"match_id":%s,"selection":"%s","odds":%s}',
                                        matches[(s + j) % M + 1], selection, ODDS[selection])
    else
      parts[#parts + 1] = string.format('{"match_id":%s,"selection":"%s"}', matches[(s + j) % M + 1], selection)
    end
  end
  local body = string.format('{"user_id":%s,"stake":%d,%s"legs":[%s]}', u.id, stake,
                             with_odds and '"accept_price_change":"none",' or "", table.concat(parts, ","))
  return wrk.format("POST", "/v1/bets", {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
  }, body)
end

bench.track_statuses()
bench.reporter(start)
