-- Scenario "cash_out": every cash-out is two requests by the bettor,
--   POST /v1/bets/{id}/cash-out/quote             (no body)  -> 201 {"quote_id": ..., "bet_id": ...}
--   POST /v1/bets/{id}/cash-out {"quote_id": ...}            -> 200 the bet, "cashed_out"
-- over pending single bets (BENCH_BETS: "bet_id user_id token" per line,
-- consecutive lines by different users; bench/lib/scenarios.sh exports them
-- before each round). Each wrk thread keeps a queue of the quotes it has
-- received: request() sends the accept of the oldest queued quote when there
-- is one, else a quote request for the thread's next bet (index i = start +
-- tid + k * threads, as place.lua walks its bets, so no two threads take one
-- bet; past the end of the file it wraps, and those bets answer 422 or 409:
-- bench/run notes a round that ran out). response() reads every answer: a
-- quote is queued with its bet's token, a 200 to an accept counted
-- (counts.cash_outs). No per-connection state: wrk calls response() for an
-- answer before it asks request() for that connection's next request, and a
-- quote taken by another connection of the thread is as good. Defining
-- response() makes wrk parse every answer, so this scenario always pays that
-- client CPU (with or without BENCH_STATUSES=1, which also counts statuses).
-- wrk's latency mixes both requests: it is not split by kind.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
local threads = tonumber(bench.env("BENCH_WRK_THREADS"))
local start = tonumber(bench.env("BENCH_START", "0"))
local bets = {}
for _, line in ipairs(bench.read_lines(bench.env("BENCH_BETS"))) do
  local id, token = line:match("^(%d+)%s+%d+%s+(%S+)$")
  assert(id, "wrk script: bad line in BENCH_BETS: " .. line)
  bets[#bets + 1] = { id = id, token = token }
end
local B = #bets

counts = { cash_outs = 0, quotes = 0 }
local queue, head, tail = {}, 1, 0   -- quotes received, not yet accepted: {id, token, quote}
local asked = {}                     -- bet id -> token, for quotes asked and not answered

function request()
  if head <= tail then
    local q = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", "/v1/bets/" .. q.id .. "/cash-out", {
      ["Authorization"] = "Bearer " .. q.token,
      ["Content-Type"] = "application/json",
    }, '{"quote_id":' .. q.quote .. "}")
  end
  local idx = start + tid + k * threads
  k = k + 1
  local bet = bets[idx % B + 1]
  asked[bet.id] = bet.token
  -- An empty body, with Content-Length: 0.
  return wrk.format("POST", "/v1/bets/" .. bet.id .. "/cash-out/quote",
                    { ["Authorization"] = "Bearer " .. bet.token }, "")
end

bench.track_statuses()
local track = response  -- defined by track_statuses() only with BENCH_STATUSES=1

function response(status, headers, body)
  body = body or ""
  if track then track(status, headers, body) end
  if status == 201 then
    -- The quote_id as received (a JSON string, quotes included, or a number).
    local quote = body:match('"quote_id"%s*:%s*("[^"]*")') or body:match('"quote_id"%s*:%s*(%-?[%d.eE+-]+)')
    local id = body:match('"bet_id"%s*:%s*(%d+)')
    local token = id and asked[id]
    if quote and token then
      asked[id] = nil
      counts.quotes = counts.quotes + 1
      tail = tail + 1
      queue[tail] = { id = id, token = token, quote = quote }
    end
  elseif status == 200 and body:find('"cashed_out"', 1, true) then
    counts.cash_outs = counts.cash_outs + 1
  end
end

bench.reporter(start)
