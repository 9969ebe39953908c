-- Scenario "signin" (issue 22): POST /v1/sessions, round-robin over the
-- users seeded with passwords (BENCH_SIGNIN_USERS: "email password" per
-- line, bench/seed_signin.py). Every sign-in verifies an Argon2id hash
-- (about 64 MiB and tens of ms) on the server's password threads and
-- stores a session, so this measures that pool's throughput and how long
-- requests queue for it.
-- Variant (BENCH_WRONG_EVERY=N, "signin_mixed"): every Nth request (by
-- index) is a wrong password for an email nobody has, a new one each time
-- (BENCH_WRONG_TAG keeps them apart between servers): the server verifies
-- a dummy hash and answers 401 invalid_credentials, at the cost of a right
-- password. Wrong passwords for the seeded users would lock them out after
-- 10 failures (429 even with the right password) and make the answers cheap.
-- Runs continue from the previous run's `next` (BENCH_START).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local wrong_every = tonumber(bench.env("BENCH_WRONG_EVERY", "0"))
local wrong_tag = bench.env("BENCH_WRONG_TAG", "x")

local requests = {}
for _, line in ipairs(bench.read_lines(bench.env("BENCH_SIGNIN_USERS"))) do
  local email, password = line:match("^(%S+)%s+(%S+)$")
  assert(email, "signin.lua: bad line in BENCH_SIGNIN_USERS: " .. line)
  requests[#requests + 1] = wrk.format("POST", "/v1/sessions", { ["Content-Type"] = "application/json" },
    bench.json({ email = email, password = password }))
end

function request()
  local idx = start + tid + k * threads
  k = k + 1
  if wrong_every > 0 and idx % wrong_every == wrong_every - 1 then
    return wrk.format("POST", "/v1/sessions", { ["Content-Type"] = "application/json" },
      string.format('{"email":"signin-nobody-%s-%d@example.com","password":"not-the-password-%d"}',
                    wrong_tag, idx, idx))
  end
  return requests[idx % #requests + 1]
end

bench.track_statuses()
bench.reporter(start)
