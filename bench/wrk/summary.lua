-- Scenario "summary": GET /v1/bets/summary with the admin token (cached).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
wrk.headers["Authorization"] = "Bearer " .. bench.env("BENCH_ADMIN_TOKEN")
bench.track_statuses()
bench.reporter()
