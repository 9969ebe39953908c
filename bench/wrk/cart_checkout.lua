-- Scenario "cart" (second half): POST /v1/users/{id}/cart/checkout on the
-- carts the add phase just filled, one request per cart: index i is cart i,
-- owned by user i mod U (the same mapping as cart_add.lua). BENCH_START is
-- the first cart of the add phase; a checkout past its last cart finds an
-- empty cart (422) and shows up as non-2xx.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local U = #users

function request()
  local idx = start + tid + k * threads
  k = k + 1
  local u = users[idx % U + 1]
  return wrk.format("POST", "/v1/users/" .. u.id .. "/cart/checkout", {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
  }, "{}")
end

bench.track_statuses()
bench.reporter(start)
