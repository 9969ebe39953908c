# The optional measurements: --big (10,000,000 bets: cache misses on a paged
# bet list and on the summary) and --idle (1,000 idle keep-alive
# connections: memory and effect on active ones). Sourced by bench/run.
# shellcheck shell=bash

BIG_USERS=10000
BIG_MATCHES=1000
BIG_BETS=10000000
IDLE_CONNECTIONS=1000
MANY_CONNECTIONS=1000
MANY_IDLE_CONNECTIONS=10000
SUMMARY_MISSES=10

big_phase() {
  log "--big: seeding the database up to $BIG_BETS bets in SQL"
  local t0=$SECONDS
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
    -v users="$BIG_USERS" -v matches="$BIG_MATCHES" -v target="$BIG_BETS" \
    -f "$BENCH_DIR/sql/big_seed.sql" betsdb_bench >"$LOGS/big-seed.log" 2>&1 \
    || { cat "$LOGS/big-seed.log" >&2; harness_failed "seeding $BIG_BETS bets"; }
  local total bad
  total=$(sed -n 's/^bets_total //p' "$LOGS/big-seed.log")
  bad=$(sed -n 's/^inconsistent_balances //p' "$LOGS/big-seed.log")
  [[ $bad == 0 ]] || harness_failed "after seeding, ${bad:-?} balances differ from their ledger sums"
  bad=$(sed -n 's/^uncounted_bets //p' "$LOGS/big-seed.log")
  [[ $bad == 0 ]] || harness_failed "after seeding, the summary's totals miss ${bad:-?} bets"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tA -F' ' -c \
    "SELECT id, 'bigbench' || lpad(split_part(split_part(email, '@', 1), '-', 2), 35, '0')
     FROM users WHERE email LIKE 'big-%@example.com' ORDER BY id" betsdb_bench >"$DATA/big_users.txt"
  record "{\"kind\":\"big\",\"bets\":${total:-0},\"users\":$BIG_USERS,\"seed_seconds\":$((SECONDS - t0))}"
  # The server's caches predate rows written behind its back.
  redis-cli -p "$REDIS_PORT" flushdb >/dev/null
  log "--big: $total bets (seeded in $((SECONDS - t0)) s)"

  local id token r start=0
  id=$(first_user_field "$DATA/big_users.txt" 1)
  token=$(first_user_field "$DATA/big_users.txt" 2)
  if route_available GET "/v1/users/$id/bets?limit=20" "$token"; then
    log "--big: user bet list, every request a cache miss (wrk -t1 -c1)"
    for r in $(seq "$ROUNDS"); do
      THREADS=1 CONNECTIONS=1 run_wrk big_user_bets_miss "$r" "$API/v1/users/$id/bets?limit=20" \
        bet_list_miss.lua BENCH_MODE=user BENCH_START="$start" BENCH_STATUSES=1 \
        BENCH_USERS="$DATA/big_users.txt" || harness_failed "wrk (big user bets)"
      start=$WRK_NEXT
    done
  else
    not_available big_user_bets_miss "GET /v1/users/{id}/bets"
  fi
  if route_available GET "/v1/bets?limit=20" "$ADMIN_TOKEN"; then
    log "--big: admin bet list, every request a cache miss (wrk -t1 -c1)"
    start=0
    for r in $(seq "$ROUNDS"); do
      THREADS=1 CONNECTIONS=1 run_wrk big_bets_miss "$r" "$API/v1/bets?limit=20" \
        bet_list_miss.lua BENCH_MODE=admin BENCH_START="$start" BENCH_STATUSES=1 \
        || harness_failed "wrk (big admin bets)"
      start=$WRK_NEXT
    done
  else
    not_available big_bets_miss "GET /v1/bets"
  fi
  if route_available GET /v1/bets/summary "$ADMIN_TOKEN"; then
    log "--big: summary on a cache miss ($SUMMARY_MISSES requests, Redis emptied before each)"
    local out="$LOGS/summary-miss.txt"
    : >"$out"
    for _ in $(seq "$SUMMARY_MISSES"); do
      redis-cli -p "$REDIS_PORT" flushdb >/dev/null
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
        -H "Authorization: Bearer $ADMIN_TOKEN" "$API/v1/bets/summary" >>"$out"
    done
    record "{\"kind\":\"summary_miss\",\"result\":$(python3 "$BENCH_DIR/collect.py" summary-miss "$out")}"
  else
    not_available big_summary_miss "GET /v1/bets/summary"
  fi
  record_rss big
}

# --many (issue 24): matches and place again with wrk -c$MANY_CONNECTIONS, each
# compared with its own -c$CONNECTIONS run; bench/run also sets the idle
# measurement to $MANY_IDLE_CONNECTIONS connections. The file limit was
# raised by bench/run (these machines cap it at 20,000 per process).
many_phase() {
  local path="/v1/matches?status=open&limit=20" r
  if route_available GET "$path" ""; then
    log "--many: matches with $MANY_CONNECTIONS connections"
    CONNECTIONS=$MANY_CONNECTIONS DURATION=1 run_wrk matches_c1000 warmup "$API$path" matches.lua \
      || harness_failed "wrk (matches -c$MANY_CONNECTIONS warm-up)"
    for r in $(seq "$ROUNDS"); do
      CONNECTIONS=$MANY_CONNECTIONS run_wrk matches_c1000 "$r" "$API$path" matches.lua \
        || harness_failed "wrk (matches -c$MANY_CONNECTIONS)"
    done
  else
    not_available matches_c1000 "GET $path"
  fi
  local token
  token=$(first_user_field "$DATA/users.txt" 2)
  if route_available POST /v1/bets "$token" '{}'; then
    warm_tokens
    log "--many: place with $MANY_CONNECTIONS connections"
    local start=$PLACE_NEXT
    for r in $(seq "$ROUNDS"); do
      CONNECTIONS=$MANY_CONNECTIONS run_wrk place_c1000 "$r" "$API/v1/bets" place.lua \
        BENCH_STATUSES="$STATUSES" BENCH_START="$start" BENCH_USERS="$DATA/users.txt" \
        BENCH_MATCHES="$DATA/matches_place.txt" || harness_failed "wrk (place -c$MANY_CONNECTIONS)"
      start=$WRK_NEXT
    done
    PLACE_NEXT=$start
  else
    not_available place_c1000 "POST /v1/bets"
  fi
  record_rss many
}

# --idle: per round, the matches scenario without, then with 1,000 idle
# keep-alive connections open; betsdb's RSS before and after opening them.
idle_phase() {
  local path="/v1/matches?status=open&limit=20"
  if ! route_available GET "$path" ""; then
    not_available idle "GET $path"
    return 0
  fi
  log "--idle: matches scenario without and with $IDLE_CONNECTIONS idle keep-alive connections"
  local r
  for r in $(seq "$ROUNDS"); do
    run_wrk idle_baseline "$r" "$API$path" matches.lua || harness_failed "wrk (idle baseline)"
    local before after out="$LOGS/idle-$r.txt" pid
    before=$(rss_kb VmRSS)
    python3 "$BENCH_DIR/idle.py" --port "$API_PORT" --connections "$IDLE_CONNECTIONS" >"$out" 2>&1 &
    pid=$!
    IDLE_PID=$pid
    local waited=0
    until grep -q '^ready' "$out" 2>/dev/null; do
      kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; harness_failed "idle.py did not open its connections"; }
      ((waited++ < 600)) || { kill -TERM "$pid"; harness_failed "idle.py timed out"; }
      sleep 0.1
    done
    after=$(rss_kb VmRSS)
    run_wrk idle_loaded "$r" "$API$path" matches.lua || { kill -TERM "$pid"; harness_failed "wrk (idle loaded)"; }
    kill -TERM "$pid"
    wait "$pid" || true
    IDLE_PID=""
    local held
    held=$(grep '^{' "$out" | tail -1)
    record "{\"kind\":\"idle\",\"round\":$r,\"connections\":$IDLE_CONNECTIONS,\"rss_before_kb\":$before,\"rss_after_kb\":$after,\"held\":${held:-null}}"
  done
  record_rss idle
}
