# The betsdb scenarios: each runs wrk for --duration, --rounds times, with
# the same -t/-c as the ceilings, and records betsdb's peak RSS afterwards.
# A scenario whose route is not there (404 not_found or 405) is recorded as
# "not available" and skipped. Sourced by bench/run.
#
# They run against the server that use_server (bench/lib/cluster.sh) chose:
# API, API_PORT, BETSDB_PID, the Redis it uses (REDIS_MODE) and SUFFIX, added
# to every recorded name ("_cluster" for the server on the Redis Cluster).
# Both servers share one database, so the write scenarios continue from the
# bets and carts the other used (PLACE_NEXT, CART_NEXT).
# shellcheck shell=bash

SUFFIX="" REDIS_MODE=single PLACE_NEXT=0 CART_NEXT=0
# More NAME=PID[,PID...] groups for cpu_snapshot (--cluster: haproxy, standby).
CPU_EXTRA=()

# run_wrk NAME ROUND URL SCRIPT [VAR=VALUE ...]: one wrk run; leaves the
# script's `next` index in WRK_NEXT, its req/s in WRK_RPS and its whole
# BENCH_RESULT line in WRK_RESULT. A numeric ROUND is recorded; any other
# (warmup, fill) is not.
run_wrk() {
  local name=$1$SUFFIX round=$2 url=$3 script=$4
  shift 4
  local out="$LOGS/wrk-$name-$round.txt" cpu0
  cpu0=$(cpu_snapshot)
  # One file per run: the signin scenario runs two wrk at once.
  times >"$LOGS/times-$name-$round-before.txt"  # the builtin, in this shell: wrk's own CPU
  env BENCH_WRK_THREADS="$THREADS" BENCH_ADMIN_TOKEN="$ADMIN_TOKEN" "$@" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
      -s "$BENCH_DIR/wrk/$script" "$url" >"$out" 2>&1 \
    || { cat "$out" >&2; return 1; }
  local result cpu1 wrk_cpu
  times >"$LOGS/times-$name-$round-after.txt"
  cpu1=$(cpu_snapshot)
  wrk_cpu=$(python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))' \
    "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-$name-$round-before.txt")" \
    "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-$name-$round-after.txt")")
  result=$(sed -n 's/^BENCH_RESULT //p' "$out" | tail -1)
  [[ -n $result ]] || { cat "$out" >&2; return 1; }
  WRK_NEXT=$(json_get "$result" next 2>/dev/null || echo 0)
  WRK_COVERED=$(json_get "$result" covered 2>/dev/null || echo 0)
  WRK_RPS=$(json_get "$result" rps)
  WRK_RESULT=$result
  [[ $round =~ ^[0-9]+$ ]] || return 0
  record "{\"kind\":\"wrk\",\"scenario\":\"$name\",\"round\":$round,\"result\":$result,\"cpu_before\":$cpu0,\"cpu_after\":$cpu1,\"wrk_cpu_s\":$wrk_cpu}"
  printf '    %-14s round %s: %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %s\n' "$name" "$round" \
    "$WRK_RPS" "$(json_get "$result" latency_us.p50 1000)" \
    "$(json_get "$result" latency_us.p99 1000)" "$(json_get "$result" non2xx)" >&2
}

# cpu_snapshot: CPU seconds so far of betsdb, Redis (the server's: one, or
# the cluster's six nodes), PostgreSQL (all its processes), nginx, and the
# whole machine; differences over a wrk run show who spent the CPU (wrk
# itself is the rest of "machine", with other work).
cpu_snapshot() {
  python3 "$BENCH_DIR/collect.py" cpu "betsdb=${BETSDB_PID:-}" \
    "redis=$(redis_pids)" \
    "postgres=$(head -1 "$PG_DIR_RESOLVED/data/postmaster.pid" 2>/dev/null)" \
    "nginx=${NGINX_PID:-}" "${CPU_EXTRA[@]}"
}

# json_get JSON DOTTED.PATH [DIVISOR]
json_get() {
  python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for part in sys.argv[2].split("."):
    v = v[part]
print(v / float(sys.argv[3]) if len(sys.argv) > 3 else v)' "$@"
}

record_rss() {
  [[ -z ${SKIP_RSS:-} ]] || return 0  # --cluster: several instances, not recorded
  record "{\"kind\":\"rss\",\"after\":\"$1$SUFFIX\",\"hwm_kb\":$(rss_kb VmHWM),\"rss_kb\":$(rss_kb VmRSS)}"
}

# route_available METHOD PATH TOKEN [BODY]: false when the route does not
# exist yet; the probe bodies are invalid on purpose so nothing changes.
route_available() {
  local method=$1 path=$2 token=$3 body=${4:-}
  local -a args=(-s -o "$LOGS/probe.json" -w '%{http_code}' -X "$method")
  [[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  PROBE_STATUS=$(curl "${args[@]}" "$API$path") || PROBE_STATUS=000
  PROBE_CODE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("code", ""))' \
    "$LOGS/probe.json" 2>/dev/null || true)
  [[ $PROBE_STATUS == 405 ]] && return 1
  [[ $PROBE_STATUS == 404 && $PROBE_CODE == not_found ]] && return 1
  return 0
}

not_available() {
  local name=$1$SUFFIX route=$2
  warn "$name: not available ($route answered $PROBE_STATUS ${PROBE_CODE:-})"
  record "{\"kind\":\"unavailable\",\"scenario\":\"$name\",\"route\":\"$route\",\"status\":\"$PROBE_STATUS\",\"code\":\"${PROBE_CODE:-}\"}"
}

first_user_field() { # first_user_field FILE 1|2 -> id or token of the first line
  awk -v f="$2" 'NR == 1 {print $f}' "$1"
}

# A cached read: a 1-second warm-up fills the cache (not recorded), then the rounds.
read_scenario() {
  local name=$1 path=$2 token=$3 script=$4
  shift 4
  if ! route_available GET "$path" "$token"; then
    not_available "$name" "GET $path"
    return 0
  fi
  log "scenario $name$SUFFIX: GET $path"
  if ((! SMOKE)); then
    DURATION=1 run_wrk "$name" warmup "$API$path" "$script" "$@" || harness_failed "wrk ($name warm-up)"
  fi
  local r
  for r in $(seq "$ROUNDS"); do
    run_wrk "$name" "$r" "$API$path" "$script" "$@" || harness_failed "wrk ($name)"
  done
  record_rss "$name"
}

scenario_matches() {
  read_scenario matches "/v1/matches?status=open&limit=20" "" matches.lua
}

scenario_user_bets() {
  local id token
  id=$(first_user_field "$DATA/bettors.txt" 1)
  token=$(first_user_field "$DATA/bettors.txt" 2)
  if [[ $(seed_field bets) == 0 ]]; then
    warn "user_bets: the users have no bets (POST /v1/bets was not available when seeding)"
  fi
  # The URL given to wrk is only the first request's; the script rotates users.
  read_scenario user_bets "/v1/users/$id/bets?limit=20" "$token" user_bets.lua \
    BENCH_USERS="$DATA/bettors.txt"
}

scenario_summary() {
  read_scenario summary "/v1/bets/summary" "$ADMIN_TOKEN" summary.lua
}

# warm_tokens: betsdb caches verified tokens (each thread its own cache, and
# a thread that verifies a token passes it to the others); a server in steady
# state knows its active users, so before the write scenarios every user's
# token is used once (GET /v1/users/{id}, not recorded). Without this the
# first pass over the users would also measure one token lookup each.
warm_tokens() {
  [[ ${TOKENS_WARM:-} == *"[$API]"* ]] && return 0
  TOKENS_WARM+="[$API]"
  local id token users total=0 runs=0
  id=$(first_user_field "$DATA/users.txt" 1)
  token=$(first_user_field "$DATA/users.txt" 2)
  route_available GET "/v1/users/$id" "$token" || return 0
  users=$(seed_field users)
  log "warming betsdb's token cache: GET /v1/users/{id} for every user (not recorded)"
  while ((total < users && runs++ < 10)); do
    DURATION=2 run_wrk tokens warmup "$API/v1/users/$id" user_bets.lua BENCH_PATH='/v1/users/%s' \
      BENCH_START="$total" BENCH_USERS="$DATA/users.txt" || harness_failed "wrk (token warm-up)"
    total=$WRK_COVERED
  done
}

scenario_place() {
  local token
  token=$(first_user_field "$DATA/users.txt" 2)
  if ! route_available POST /v1/bets "$token" '{}'; then
    not_available place "POST /v1/bets"
    return 0
  fi
  warm_tokens
  log "scenario place$SUFFIX: POST /v1/bets, each request a new (user, match, selection)"
  local start=$PLACE_NEXT r batches0 batches1
  # The group commit's batches (issue 24), counted by betsdb itself.
  batches0=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || batches0=""
  for r in $(seq "$ROUNDS"); do
    run_wrk place "$r" "$API/v1/bets" place.lua BENCH_STATUSES="$STATUSES" BENCH_START="$start" \
      BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_place.txt" || harness_failed "wrk (place)"
    start=$WRK_NEXT
  done
  batches1=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || batches1=""
  if [[ -n $batches0 && -n $batches1 ]]; then
    record "{\"kind\":\"batches\",\"scenario\":\"place$SUFFIX\",\"before\":$batches0,\"after\":$batches1}"
  fi
  local capacity=$(($(seed_field users) * $(seed_field matches.place) * 3))
  PLACE_NEXT=$start
  if ((start > capacity)); then
    note "place$SUFFIX" "the runs used $start bets but users x matches x selections is only $capacity: some bets repeated (duplicate_bet)"
  fi
  record_rss place
  scenario_place_odds
  scenario_place_hot
  if ((${BATCH_CEILING_PENDING:-0})) && [[ -n $batches0 && -n $batches1 ]]; then
    ceiling_pgbench_batch "$(python3 "$BENCH_DIR/batches.py" size "$batches0" "$batches1")"
  fi
}

# place_odds: as place, every bet carrying the odds it expects with
# accept_price_change "none" (issue 18: at most 5% slower than place).
scenario_place_odds() {
  log "scenario place_odds$SUFFIX: POST /v1/bets with odds and accept_price_change none"
  local start=$PLACE_NEXT r
  for r in $(seq "$ROUNDS"); do
    run_wrk place_odds "$r" "$API/v1/bets" place.lua BENCH_STATUSES="$STATUSES" BENCH_START="$start" \
      BENCH_WITH_ODDS=1 BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_place.txt" \
      || harness_failed "wrk (place_odds)"
    start=$WRK_NEXT
  done
  PLACE_NEXT=$start
}

# place_hot: every bet on one match that has a liability limit, so every
# placement takes that match's exposure row (issue 18: at least 50% of place).
scenario_place_hot() {
  log "scenario place_hot$SUFFIX: POST /v1/bets, every bet on one match with limits"
  local start=${HOT_NEXT:-0} r
  for r in $(seq "$ROUNDS"); do
    run_wrk place_hot "$r" "$API/v1/bets" place.lua BENCH_STATUSES="$STATUSES" BENCH_START="$start" \
      BENCH_HOT=1 BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_hot.txt" \
      || harness_failed "wrk (place_hot)"
    start=$WRK_NEXT
  done
  HOT_NEXT=$start
  local capacity=$(($(seed_field users) * 3))
  if ((start > capacity)); then
    note "place_hot$SUFFIX" "the runs used $start bets but users x selections is only $capacity: some bets repeated (duplicate_bet)"
  fi
}

# place_limited (issue 21): as place (the same wrk script, stake and
# mapping of requests to users, matches and selections), but every bettor
# has a stake limit per day, week and month and 100,000 stakes in the ledger
# over the last 30 days, so every placement computes three rolling windows
# over a long history; its throughput is reported as a ratio to place's
# (target: at least 90%). The bettors and their history are seeded in SQL by
# seed_limited, before the API seed, so place runs on the same database.
# LIMITED_USERS (default twice --connections, so that, as in place, no two
# requests in flight are by one bettor: each wrk thread takes every
# --threads-th user), each with LIMITED_BETS stakes (1.00 .. 5.90) and limits
# of each window's sum at seeding plus LIMITED_HEADROOM cents (100,000.00:
# far more than a run stakes, yet the day's and week's below the lifetime
# total), bet on their own LIMITED_MATCHES open matches (for
# users x matches x 3 distinct bets).
LIMITED_USERS="" LIMITED_BETS=100000 LIMITED_MATCHES=1000 LIMITED_HEADROOM=10000000

seed_limited() {
  local users=${LIMITED_USERS:-$((2 * CONNECTIONS))}
  if [[ $(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT to_regclass('user_limits') IS NOT NULL" betsdb_bench) != t ]]; then
    warn "place_limited: this server's schema has no user_limits (issue 21): nothing seeded"
    return 0
  fi
  log "place_limited: seeding $users bettors with stake limits and $LIMITED_BETS stakes each, in SQL"
  local t0=$SECONDS
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
    -v users="$users" -v bets="$LIMITED_BETS" -v matches="$LIMITED_MATCHES" -v headroom="$LIMITED_HEADROOM" \
    -f "$BENCH_DIR/sql/limited_seed.sql" betsdb_bench >"$LOGS/limited-seed.log" 2>&1 \
    || { cat "$LOGS/limited-seed.log" >&2; harness_failed "seeding the place_limited bettors"; }
  local check bad=0
  for check in inconsistent_balances wrong_running_totals wrong_totals; do
    [[ $(sed -n "s/^$check //p" "$LOGS/limited-seed.log") == 0 ]] || bad=1
  done
  ((bad == 0)) || { cat "$LOGS/limited-seed.log" >&2; harness_failed "the place_limited seed is inconsistent"; }
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tA -F' ' -c \
    "SELECT id, 'limbench' || lpad(split_part(split_part(email, '@', 1), '-', 2), 35, '0')
     FROM users WHERE email LIKE 'limited-%@example.com' ORDER BY id" betsdb_bench >"$DATA/limited_users.txt"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tA -c \
    "SELECT id FROM matches WHERE team_1 LIKE 'Limited Home %' ORDER BY id" betsdb_bench >"$DATA/matches_limited.txt"
  local rows limits
  rows=$(sed -n 's/^stake_rows //p' "$LOGS/limited-seed.log")
  limits=$(sed -n 's/^stake_limits //p' "$LOGS/limited-seed.log")
  record "{\"kind\":\"limited_seed\",\"users\":$users,\"bets_per_user\":$LIMITED_BETS,\"stake_rows\":${rows:-0},\"matches\":$LIMITED_MATCHES,\"limits\":\"$limits\",\"seed_seconds\":$((SECONDS - t0))}"
  log "place_limited: ${rows:-0} stake rows (seeded in $((SECONDS - t0)) s); limits of the first bettor: $limits"
}

scenario_place_limited() {
  if [[ ! -s $DATA/limited_users.txt ]]; then
    PROBE_STATUS="-" PROBE_CODE="no user_limits table, nothing seeded"
    not_available place_limited "the schema of issue 21"
    return 0
  fi
  local token id
  id=$(first_user_field "$DATA/limited_users.txt" 1)
  token=$(first_user_field "$DATA/limited_users.txt" 2)
  if ! route_available POST /v1/bets "$token" '{}'; then
    not_available place_limited "POST /v1/bets"
    return 0
  fi
  if ! route_available GET "/v1/users/$id/limits" "$token"; then
    not_available place_limited "GET /v1/users/{id}/limits"
    return 0
  fi
  # Their tokens, as warm_tokens does for place's users (not recorded).
  if [[ ${LIMITED_WARM:-} != *"[$API]"* ]]; then
    LIMITED_WARM+="[$API]"
    DURATION=1 run_wrk tokens_limited warmup "$API/v1/users/$id" user_bets.lua BENCH_PATH='/v1/users/%s' \
      BENCH_USERS="$DATA/limited_users.txt" || harness_failed "wrk (place_limited token warm-up)"
  fi
  log "scenario place_limited$SUFFIX: POST /v1/bets as place, by bettors with stake limits and $LIMITED_BETS-bet histories"
  local start=${LIMITED_NEXT:-0} r
  for r in $(seq "$ROUNDS"); do
    run_wrk place_limited "$r" "$API/v1/bets" place.lua BENCH_STATUSES="$STATUSES" BENCH_START="$start" \
      BENCH_USERS="$DATA/limited_users.txt" BENCH_MATCHES="$DATA/matches_limited.txt" \
      || harness_failed "wrk (place_limited)"
    start=$WRK_NEXT
  done
  LIMITED_NEXT=$start
  local capacity
  capacity=$(($(wc -l <"$DATA/limited_users.txt") * $(wc -l <"$DATA/matches_limited.txt") * 3))
  if ((start > capacity)); then
    note "place_limited$SUFFIX" "the runs used $start bets but users x matches x selections is only $capacity: some bets repeated (duplicate_bet; raise LIMITED_MATCHES)"
  fi
  record_rss place_limited
}

# acca (issue 19): as place (same users, matches, stake, no odds given),
# every request a 4-leg accumulator new for its user (bench/wrk/acca.lua);
# its throughput is reported as a ratio to place's (target: at least 70%).
scenario_acca() {
  local token
  token=$(first_user_field "$DATA/users.txt" 2)
  if ! route_available POST /v1/bets "$token" '{}'; then
    not_available acca "POST /v1/bets"
    return 0
  fi
  warm_tokens
  log "scenario acca$SUFFIX: POST /v1/bets, each request a new 4-leg accumulator for its user"
  local start=${ACCA_NEXT:-0} r batches0 batches1
  batches0=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || batches0=""
  for r in $(seq "$ROUNDS"); do
    run_wrk acca "$r" "$API/v1/bets" acca.lua BENCH_STATUSES="$STATUSES" BENCH_START="$start" \
      BENCH_LEGS=4 BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_place.txt" \
      || harness_failed "wrk (acca)"
    start=$WRK_NEXT
  done
  ACCA_NEXT=$start
  batches1=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || batches1=""
  if [[ -n $batches0 && -n $batches1 ]]; then
    record "{\"kind\":\"batches\",\"scenario\":\"acca$SUFFIX\",\"before\":$batches0,\"after\":$batches1}"
  fi
  local capacity=$(($(seed_field users) * $(seed_field matches.place) * 81))
  if ((start > capacity)); then
    note "acca$SUFFIX" "the runs used $start accumulators but users x matches x 3^4 is only $capacity: some repeated (duplicate_bet)"
  fi
  record_rss acca
}

# cash_out: per round, untimed, single bets placed as place places them
# (bench/wrk/place.lua, continuing PLACE_NEXT so no bet repeats) until the
# users of users.txt have enough pending singles for the round (1.5 x the
# previous round's cash-outs/s for --duration; CASH_OUT_RATE/s before one is
# known; each fill lasts as long as that takes at the previous fill's rate,
# CASH_OUT_FILL_RATE bets/s before the first; at most 3 fills a round), the
# first of them exported with psql (pending_singles), then the timed phase
# (bench/wrk/cash_out.lua): per bet a quote, then its accept.
# Its figure is accepted cash-outs per second (200 answers to accepts, the
# BENCH_RESULT's cash_outs), beside wrk's rate of both requests. The group
# commit's batches are counted over the timed phases only (not the fills).
CASH_OUT_RATE=5000 CASH_OUT_FILL_RATE=4000

scenario_cash_out() {
  local token
  token=$(first_user_field "$DATA/users.txt" 2)
  # No such bet (ids are positive; 0 is no id): 404 bet_not_found where the route exists.
  if ! route_available POST /v1/bets/9000000000000000000/cash-out/quote "$token"; then
    not_available cash_out "POST /v1/bets/{id}/cash-out/quote"
    return 0
  fi
  if ! route_available POST /v1/bets "$token" '{}'; then
    not_available cash_out "POST /v1/bets"
    return 0
  fi
  warm_tokens
  log "scenario cash_out$SUFFIX: POST /v1/bets/{id}/cash-out/quote, then POST /v1/bets/{id}/cash-out, each bet once"
  local bets="$DATA/cash_out_bets$SUFFIX.txt" rate=${CASH_OUT_RPS:-$CASH_OUT_RATE} r target have n fills secs
  local batches0="" before after total="" cash_outs seconds
  local -a fill_env=(BENCH_STATUSES="$STATUSES" BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_place.txt")
  for r in $(seq "$ROUNDS"); do
    target=$(python3 -c 'import math,sys; print(math.ceil(1.5 * float(sys.argv[1]) * int(sys.argv[2])))' \
      "$rate" "$DURATION")
    have=$(pending_singles) || harness_failed "counting the pending bets (cash_out)"
    fills=0
    while ((have < target && fills < 3)); do
      fills=$((fills + 1))
      secs=$(python3 -c 'import math,sys; print(min(120, math.ceil(int(sys.argv[1]) / max(1.0, float(sys.argv[2]))) + 1))' \
        $((target - have)) "${CASH_OUT_FILL_RPS:-$CASH_OUT_FILL_RATE}")
      DURATION=$secs run_wrk cash_out_fill fill "$API/v1/bets" place.lua "${fill_env[@]}" \
        BENCH_START="$PLACE_NEXT" || harness_failed "wrk (cash_out fill)"
      PLACE_NEXT=$WRK_NEXT CASH_OUT_FILL_RPS=$WRK_RPS
      have=$(pending_singles) || harness_failed "counting the pending bets (cash_out)"
    done
    pending_singles "$bets" "$target" || harness_failed "exporting the pending bets (cash_out)"
    n=$(wc -l <"$bets")
    if ((n == 0)); then
      note "cash_out$SUFFIX" "round $r: no pending single bets to cash out (POST /v1/bets placed none)"
      return 0
    fi
    if ((n < target)); then
      note "cash_out$SUFFIX" "round $r: wanted $target pending bets, found only $n after $fills fills"
    fi
    before=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || before=""
    run_wrk cash_out "$r" "$API/v1/bets" cash_out.lua BENCH_STATUSES="$STATUSES" BENCH_START=0 \
      BENCH_BETS="$bets" || harness_failed "wrk (cash_out)"
    after=$(python3 "$BENCH_DIR/batches.py" snapshot "$API" 2>/dev/null) || after=""
    if [[ -n $before && -n $after ]]; then
      # The group commit's batches of the timed phases only, not of the fills.
      [[ -n $batches0 ]] || batches0=$before
      total=$(python3 "$BENCH_DIR/batches.py" add "${total:-$batches0}" "$before" "$after") || total=""
    fi
    cash_outs=$(json_get "$WRK_RESULT" cash_outs 2>/dev/null || echo 0)
    seconds=$(json_get "$WRK_RESULT" duration_us 1000000)
    printf '    %-14s round %s: %8.0f cash-outs/s (%s cash-outs, %s bets exported)\n' "cash_out$SUFFIX" "$r" \
      "$(python3 -c 'import sys; print(int(sys.argv[1]) / float(sys.argv[2]))' "$cash_outs" "$seconds")" \
      "$cash_outs" "$n" >&2
    if ((WRK_NEXT > n)); then
      note "cash_out$SUFFIX" "round $r ran out of bets: it asked for $WRK_NEXT quotes but $n bets were exported; the rest were bets already cashed out (422 cash_out_unavailable, 409 already_settled)"
    fi
    if ((cash_outs > 0)); then
      rate=$(python3 -c 'import sys; print(int(sys.argv[1]) / float(sys.argv[2]))' "$cash_outs" "$seconds")
    fi
  done
  CASH_OUT_RPS=$rate
  if [[ -n $total ]]; then
    record "{\"kind\":\"batches\",\"scenario\":\"cash_out$SUFFIX\",\"before\":$batches0,\"after\":$total}"
  fi
  local capacity=$(($(seed_field users) * $(seed_field matches.place) * 3))
  if ((PLACE_NEXT > capacity)); then
    note "cash_out$SUFFIX" "the fills and place used $PLACE_NEXT bets but users x matches x selections is only $capacity: some bets repeated (duplicate_bet)"
  fi
  record_rss cash_out
  # Its fills and cash-outs leave autovacuum work on bets, users and the
  # ledger, which overlapped the next scenario (cart_add fell from about 25,000
  # to 17,000 req/s over its rounds, with PostgreSQL at 15 us per add against
  # 1): settle it here, untimed.
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "VACUUM (ANALYZE) bets, bet_legs, users, ledger" \
    -c "CHECKPOINT" betsdb_bench >"$LOGS/cash_out-vacuum$SUFFIX.log" 2>&1 \
    || warn "could not vacuum after cash_out (see $LOGS/cash_out-vacuum$SUFFIX.log)"
}

# pending_singles [FILE LIMIT]: how many pending single bets the users of
# users.txt have; with FILE, writes the first LIMIT of them into it as
# "bet_id user_id token", each user's oldest first and consecutive lines by
# different users (a user's next bet only after one of every other user's).
pending_singles() {
  local query="FROM bets b JOIN bench_users u ON u.id = b.user_id WHERE b.status = 'pending' AND b.type = 'single'"
  local select="SELECT count(*) $query"
  local -a to_file=()
  if (($#)); then
    select="SELECT b.id, b.user_id, u.token $query
            ORDER BY row_number() OVER (PARTITION BY b.user_id ORDER BY b.id), b.user_id LIMIT $2"
    to_file=(-o "$1")
  fi
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -tA -F' ' -v ON_ERROR_STOP=1 "${to_file[@]}" betsdb_bench <<SQL
CREATE TEMP TABLE bench_users (id bigint PRIMARY KEY, token text NOT NULL);
\copy bench_users FROM '$DATA/users.txt' WITH (DELIMITER ' ')
$select;
SQL
}

# cart: per round, an add phase (wrk, every request one item; five items make
# a cart), then, untimed, more adds until there are enough carts for the
# checkout phase not to run dry (1.2 x the pgbench checkout ceiling's rate
# for --duration, or 3000/s before that ceiling is known; at most one cart per
# user), then a checkout phase (wrk, one request per filled 5-item cart);
# carts left over are dropped so the next round starts clean.
scenario_cart() {
  local id token
  id=$(first_user_field "$DATA/users.txt" 1)
  token=$(first_user_field "$DATA/users.txt" 2)
  if ! route_available POST "/v1/users/$id/cart/items" "$token" '{}'; then
    not_available cart_add "POST /v1/users/{id}/cart/items"
    not_available cart_checkout "POST /v1/users/{id}/cart/checkout"
    return 0
  fi
  local checkout=1
  if ! route_available POST "/v1/users/$id/cart/checkout" "$token" '{}'; then
    not_available cart_checkout "POST /v1/users/{id}/cart/checkout"
    checkout=0
  fi
  warm_tokens
  log "scenario cart$SUFFIX: add-to-cart phase, then checkout of the 5-item carts"
  local users cart0=$CART_NEXT r target
  users=$(seed_field users)
  target=$(python3 -c 'import math,sys; print(math.ceil(1.2 * float(sys.argv[1]) * int(sys.argv[2])))' \
    "${CHECKOUT_CEILING_TPS:-3000}" "$DURATION")
  if ((target > users)); then
    ((SMOKE)) || note "cart_checkout$SUFFIX" "wanted $target carts per round but there are $users users (one cart each): the checkout phase may run out (use --users)"
    target=$users
  fi
  clear_carts
  local -a cart_env=(BENCH_STATUSES="$STATUSES" BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_cart.txt")
  for r in $(seq "$ROUNDS"); do
    run_wrk cart_add "$r" "$API/v1/users/$id/cart/items" cart_add.lua "${cart_env[@]}" \
      BENCH_START=$((cart0 * 5)) || harness_failed "wrk (cart_add)"
    local items=$((WRK_NEXT - cart0 * 5)) fills=0
    while ((checkout && items < target * 5 && fills++ < 3)); do
      local secs
      secs=$(python3 -c 'import math,sys; print(min(120, math.ceil(int(sys.argv[1]) / max(1.0, float(sys.argv[2]))) + 1))' \
        $((target * 5 - items)) "$WRK_RPS")
      DURATION=$secs run_wrk cart_add fill "$API/v1/users/$id/cart/items" cart_add.lua "${cart_env[@]}" \
        BENCH_START=$((cart0 * 5 + items)) || harness_failed "wrk (cart fill)"
      items=$((WRK_NEXT - cart0 * 5))
    done
    local carts=$(((items + 4) / 5))
    if ((carts > users)); then
      note "cart_add$SUFFIX" "round $r filled $carts carts for $users users: some carts held more than 5 items (use --users)"
    fi
    if ((checkout)); then
      run_wrk cart_checkout "$r" "$API/v1/users/$id/cart/checkout" cart_checkout.lua BENCH_STATUSES="$STATUSES" \
        BENCH_START=$cart0 BENCH_USERS="$DATA/users.txt" || harness_failed "wrk (cart_checkout)"
      if ((WRK_NEXT - cart0 > carts)); then
        note "cart_checkout$SUFFIX" "round $r: checkout outran the $carts carts filled; the rest met empty carts (422, not counted as checkouts)"
      fi
    fi
    clear_carts
    cart0=$((cart0 + carts))
  done
  CART_NEXT=$cart0
  record_rss cart
}

# Drops every cart key of the current server's Redis (the bench's private
# one, or every master of its cluster; not a request path). One key per
# UNLINK: on a cluster, keys of different slots may not share a command.
clear_carts() {
  local port
  for port in $(redis_master_ports); do
    redis-cli -p "$port" --scan --pattern 'cart:*' | sed 's/^/UNLINK /' | redis-cli -p "$port" >/dev/null
  done
}

# redis_pids: the pid(s) of the current server's Redis, comma-separated.
redis_pids() {
  if [[ $REDIS_MODE == cluster ]]; then
    local p out=""
    for p in $(redis_cluster_ports "$CLUSTER_DIR"); do out+="${out:+,}$(cat "$CLUSTER_DIR/$p/redis.pid" 2>/dev/null)"; done
    echo "$out"
  else
    cat "$STATE/redis/redis.pid" 2>/dev/null
  fi
}

# redis_master_ports: the port of the current server's Redis, or its cluster's masters.
redis_master_ports() {
  if [[ $REDIS_MODE == cluster ]]; then
    redis_cluster_masters "$(redis_cluster_ports "$CLUSTER_DIR" | awk '{print $1}')"
  else
    echo "$REDIS_PORT"
  fi
}

# signin (issue 22): POST /v1/sessions. Every sign-in verifies an Argon2id
# hash (libsodium's interactive limits: about 64 MiB and tens of ms) on the
# server's small pool of password threads (BETSDB_PASSWORD_THREADS), never
# on a shard's event loop. SIGNIN_USERS users sign up with passwords
# (bench/seed_signin.py), then per round:
#   signin_read_alone  GET /v1/matches/{id}, paced (bench/wrk/paced_read.lua:
#                      SIGNIN_READ_CONNECTIONS connections, each waiting
#                      SIGNIN_READ_DELAY_MS between requests), alone (it
#                      reads PostgreSQL every time; BENCH_SIGNIN_READ_PATH
#                      watches another path, e.g. /healthz, answered on the
#                      event loop alone);
#   signin             wrk -c SIGNIN_CONNECTIONS signing the users in
#                      round-robin for SIGNIN_DURATION (default 2 x
#                      --duration): more requests than hashing threads, so
#                      they queue, which p50/p99 show;
#   signin_read        the same paced read, at the same time as signin
#                      (from 0.5 s in to 0.5 s before its end): its p99
#                      against signin_read_alone's shows whether the event
#                      loops stay free while the pool hashes;
#   signin_mixed       as signin, every SIGNIN_WRONG_EVERY-th request a wrong
#                      password for an unknown email (401, a dummy hash
#                      verified: same cost), a new email each time so no
#                      email reaches the 10-failure lockout.
# Every answer is counted by status (cheap at these rates).
SIGNIN_USERS=50 SIGNIN_CONNECTIONS=16 SIGNIN_DURATION="" SIGNIN_ALONE_DURATION=5
SIGNIN_READ_CONNECTIONS=4 SIGNIN_READ_DELAY_MS=10 SIGNIN_WRONG_EVERY=4

scenario_signin() {
  if ! route_available POST /v1/sessions "" '{}'; then
    not_available signin "POST /v1/sessions"
    return 0
  fi
  local users="$DATA/signin_users$SUFFIX.txt" out="$LOGS/seed-signin$SUFFIX.txt" seeded
  log "scenario signin$SUFFIX: $SIGNIN_USERS users sign up with passwords"
  python3 "$BENCH_DIR/seed_signin.py" --api "$API" --users "$SIGNIN_USERS" --prefix "signin$SUFFIX" \
    --out "$users" >"$out" 2>&1 || { cat "$out" >&2; harness_failed "seeding the signin users"; }
  seeded=$(tail -1 "$out")
  local match path duration=${SIGNIN_DURATION:-$((2 * DURATION))}
  ((duration >= 2)) || duration=2
  match=$(head -1 "$DATA/matches_seed.txt")
  path=${BENCH_SIGNIN_READ_PATH:-/v1/matches/$match}
  record "{\"kind\":\"signin_seed\",\"scenario\":\"signin$SUFFIX\",\"result\":$seeded,\"settings\":{\"users\":$SIGNIN_USERS,\"wrk_threads\":$THREADS,\"connections\":$SIGNIN_CONNECTIONS,\"duration_s\":$duration,\"alone_duration_s\":$SIGNIN_ALONE_DURATION,\"read_connections\":$SIGNIN_READ_CONNECTIONS,\"read_delay_ms\":$SIGNIN_READ_DELAY_MS,\"wrong_every\":$SIGNIN_WRONG_EVERY,\"read_path\":\"$path\"}}"
  if [[ $(json_get "$seeded" signin_status) != 201 ]]; then
    PROBE_STATUS=$(json_get "$seeded" signin_status) PROBE_CODE=$(json_get "$seeded" signin_code)
    not_available signin "POST /v1/sessions with a seeded user's password"
    return 0
  fi
  local -a read_env=(BENCH_STATUSES=1 BENCH_DELAY_MS="$SIGNIN_READ_DELAY_MS")
  local -a signin_env=(BENCH_STATUSES=1 BENCH_SIGNIN_USERS="$users")
  log "scenario signin$SUFFIX: POST /v1/sessions, -c$SIGNIN_CONNECTIONS for ${duration} s, beside a paced GET $path"
  local start=${SIGNIN_NEXT:-0} r pid
  for r in $(seq "$ROUNDS"); do
    THREADS=1 CONNECTIONS=$SIGNIN_READ_CONNECTIONS DURATION=$SIGNIN_ALONE_DURATION \
      run_wrk signin_read_alone "$r" "$API$path" paced_read.lua "${read_env[@]}" \
      || harness_failed "wrk (signin_read_alone)"
    CONNECTIONS=$SIGNIN_CONNECTIONS DURATION=$duration \
      run_wrk signin "$r" "$API/v1/sessions" signin.lua "${signin_env[@]}" &
    pid=$!
    sleep 0.5
    THREADS=1 CONNECTIONS=$SIGNIN_READ_CONNECTIONS DURATION=$((duration - 1)) \
      run_wrk signin_read "$r" "$API$path" paced_read.lua "${read_env[@]}" \
      || { wait "$pid"; harness_failed "wrk (signin_read)"; }
    wait "$pid" || harness_failed "wrk (signin)"
    CONNECTIONS=$SIGNIN_CONNECTIONS DURATION=$duration \
      run_wrk signin_mixed "$r" "$API/v1/sessions" signin.lua "${signin_env[@]}" \
      BENCH_START="$start" BENCH_WRONG_EVERY="$SIGNIN_WRONG_EVERY" BENCH_WRONG_TAG="bench$SUFFIX" \
      || harness_failed "wrk (signin_mixed)"
    start=$WRK_NEXT
  done
  SIGNIN_NEXT=$start
  record_rss signin
}
