-- Scenario "cart" (first half): POST /v1/users/{id}/cart/items.
-- Index i is item i mod 5 of cart i / 5; cart c belongs to user c mod U, and
-- its items are the user's next five unused (match, selection) pairs on the
-- cart matches (g = c / U counts how many carts the user had before), so a
-- later checkout never meets duplicate_bet; each user starts at its own
-- offset, so carts checked out at once hold different matches (a match's
-- placements take turns on its exposure row). bench/run checks that one run
-- fills at most U carts, so every cart holds exactly five items.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local users = bench.read_users(bench.env("BENCH_USERS"))
local matches = bench.read_lines(bench.env("BENCH_MATCHES"))
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local stake = tonumber(bench.env("BENCH_STAKE", "100"))
local U, M = #users, #matches
ITEMS_PER_CART = 5

-- Requests are assembled from parts built once (wrk's own advice for fast
-- servers, as in user_bets.lua): per user the request line and headers, per
-- (match, selection) the body.
local heads = {}
for i, u in ipairs(users) do
  local head = wrk.format("POST", "/v1/users/" .. u.id .. "/cart/items", {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
  })
  heads[i] = string.sub(head, 1, -3)  -- without the blank line that ends the headers
end
local bodies = {}
for q = 0, 3 * M - 1 do
  local body = string.format('{"match_id":%s,"selection":"%s","stake":%d}',
                             matches[q % M + 1], SELECTIONS[math.floor(q / M) + 1], stake)
  bodies[q + 1] = "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

function request()
  local idx = start + tid + k * threads
  k = k + 1
  local cart = math.floor(idx / ITEMS_PER_CART)
  local slot = idx % ITEMS_PER_CART
  local pair = (math.floor(cart / U) + cart % U) * ITEMS_PER_CART + slot
  return heads[cart % U + 1] .. bodies[pair % (3 * M) + 1]
end

bench.track_statuses()
bench.reporter(start)
