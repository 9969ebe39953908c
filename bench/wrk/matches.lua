-- Scenario "matches": GET /v1/matches?status=open&limit=20, public and cached.
-- The URL comes from the command line; the request is static, wrk's fastest
-- path. Also used unchanged for the nginx ceiling (a static file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.track_statuses()
bench.reporter()
