# --stream (issue 20): the live odds stream, GET /v1/stream, measured by
# bench/stream.py (one process holding every client). Per round:
#
#   1. stream.py opens STREAM_CLIENTS clients (all must get their 200), reads
#      betsdb's RSS before and after, then changes STREAM_RATE matches a
#      second (PATCH odds): STREAM_SECONDS of changes with nothing else
#      running ("alone": the fan-out latency and the RSS growth), then the
#      API scenarios of STREAM_SCENARIOS (matches, place) while the changes
#      go on (stream_<name>_loaded; SIGUSR1/SIGUSR2 tell stream.py when each
#      runs, so it reports those events apart as "with_api"), then it waits
#      for the last events and closes;
#   2. the same scenarios without any stream client: stream_<name>_base
#      (after the stream, so that in the first round only the seeding has
#      run before the RSS reading: less memory kept by the allocator from
#      earlier load that the clients would reuse unseen);
#   3. the ceiling: the same clients, rate and seconds on Redis pub/sub (a
#      private redis-server started by stream.py: SUBSCRIBE / PUBLISH of an
#      event of the same shape and size), so the harness's and the machine's
#      own share of the latency is measured in the same run.
#
# Targets (bench/report.py): fan-out p99 (write's response to the last
# client) < 100 ms, no event missed by any client, RSS growth < 64 MB for
# the clients, every scenario's req/s during the stream >= 90% of without.
# Sourced by bench/run after scenarios.sh.
# shellcheck shell=bash

STREAM_CLIENTS=10000 STREAM_RATE=20 STREAM_SECONDS=20
STREAM_SCENARIOS=${STREAM_SCENARIOS:-matches,place}
STREAM_PID="" STREAM_RESULT=""

# stream_probe: GET /v1/stream's status (the body never ends: 2 s, then cut).
stream_probe() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$API/v1/stream" 2>/dev/null) || true
  echo "${code:-000}"
}

# stream_wrk NAME ROUND SCENARIO: one wrk run of a scenario, as the main ones.
stream_wrk() {
  local name=$1 round=$2 scenario=$3
  case $scenario in
    matches)
      run_wrk "$name" "$round" "$API/v1/matches?status=open&limit=20" matches.lua ;;
    place)
      run_wrk "$name" "$round" "$API/v1/bets" place.lua BENCH_STATUSES="$STATUSES" BENCH_START="$PLACE_NEXT" \
        BENCH_USERS="$DATA/users.txt" BENCH_MATCHES="$DATA/matches_place.txt" || return 1
      PLACE_NEXT=$WRK_NEXT ;;
    *) die "STREAM_SCENARIOS: unknown scenario $scenario (matches, place)" ;;
  esac
}

# stream_start OUT ERR ARGS...: stream.py in the background (STREAM_PID).
stream_start() {
  local out=$1 err=$2
  shift 2
  python3 "$BENCH_DIR/stream.py" "$@" >"$out" 2>"$err" &
  STREAM_PID=$!
}

# stream_wait_for LINE OUT: until stream.py prints LINE (bounded by its own
# connect deadline, 30 s + clients / 200, and a margin).
stream_wait_for() {
  local line=$1 out=$2 ticks=0 limit=$(((60 + STREAM_CLIENTS / 200) * 10))
  until grep -q "^$line" "$out" 2>/dev/null; do
    kill -0 "$STREAM_PID" 2>/dev/null || return 1
    ((ticks++ < limit)) || return 1
    sleep 0.1
  done
}

# stream_finish OUT ERR: waits for stream.py (it stops by itself: every
# phase has a deadline), leaves its JSON line in STREAM_RESULT. Not in a
# subshell: only this shell can wait for it.
stream_finish() {
  local out=$1 err=$2 rc=0
  wait "$STREAM_PID" || rc=$?
  STREAM_PID=""
  STREAM_RESULT=$(grep '^{' "$out" | tail -1)
  # A load mark (SIGUSR1/2) that reaches stream.py while it exits, after its
  # result, ends it by that signal: the measurement itself ran.
  if ((rc == 128 + 10 || rc == 128 + 12)) && [[ -n $STREAM_RESULT ]]; then rc=0; fi
  if ((rc != 0)) || [[ -z $STREAM_RESULT ]]; then
    cat "$err" >&2
    return 1
  fi
}

stream_line() { # stream_line LABEL JSON: one progress line, as run_wrk's
  python3 - "$1" "$2" <<'PY' >&2
import json, sys
r = json.loads(sys.argv[2])
a = (r.get("phases") or {}).get("alone") or r
w = (r.get("phases") or {}).get("with_api")
lat = a["latency_ms"]
line = (f"    {sys.argv[1]:<22} {r['connected']}/{r['clients']} clients, {a['events']} events: "
        f"last client p50 {lat['p50']} ms p99 {lat['p99']} ms max {lat['max']} ms")
if w and w["events"]:
    line += f"; with API load p99 {w['latency_ms']['p99']} ms"
line += (f"; missed {r['missed_events']}, dropped {r['dropped_clients']}, RSS +{r['rss_growth_mb']} MB, "
         f"harness CPU {r['harness_cpu_share']}")
print(line)
PY
}

stream_phase() {
  local status
  status=$(stream_probe)
  if [[ $status != 200 ]]; then
    # shellcheck disable=SC2034 # read by not_available (scenarios.sh)
    PROBE_STATUS=$status PROBE_CODE=""
    not_available stream "GET /v1/stream"
    return 0
  fi
  local -a scenarios=()
  local s token
  token=$(first_user_field "$DATA/users.txt" 2)
  for s in ${STREAM_SCENARIOS//,/ }; do
    if [[ $s == place ]] && ! route_available POST /v1/bets "$token" '{}'; then
      not_available stream_place "POST /v1/bets"
      continue
    fi
    scenarios+=("$s")
  done
  [[ " ${scenarios[*]} " == *" place "* ]] && warm_tokens
  # Each loaded run gets its --duration plus room for wrk's start and the
  # CPU snapshots around it; changes that outlast it are counted as alone.
  local seconds=$((STREAM_SECONDS + ${#scenarios[@]} * (DURATION + 3)))
  local -a common=(--clients "$STREAM_CLIENTS" --rate "$STREAM_RATE")
  ((SMOKE)) && common+=(--settle 0.5 --drain 3)
  record "{\"kind\":\"stream_settings\",\"clients\":$STREAM_CLIENTS,\"rate\":$STREAM_RATE,\"seconds_alone\":$STREAM_SECONDS,\"scenarios\":\"${scenarios[*]}\",\"wrk_duration_s\":$DURATION}"
  log "--stream: $STREAM_CLIENTS clients on GET /v1/stream, $STREAM_RATE match changes/s: ${STREAM_SECONDS} s alone, then during ${scenarios[*]:-no scenario}; then the same on Redis pub/sub"
  local r out err
  if ((!SMOKE)) && [[ " ${scenarios[*]} " == *" matches "* ]]; then
    # As the cached reads: a 1-second warm-up fills the cache (not recorded).
    DURATION=1 stream_wrk stream_matches warmup matches || harness_failed "wrk (stream_matches warm-up)"
  fi
  for r in $(seq "$ROUNDS"); do
    out="$LOGS/stream-$r.txt" err="$LOGS/stream-$r.err"
    stream_start "$out" "$err" --api "$API" --admin-token "$ADMIN_TOKEN" --pid "$BETSDB_PID" \
      "${common[@]}" --duration "$seconds" --json "$RES/stream-$r.json"
    if ! stream_wait_for writing "$out"; then
      [[ -n $STREAM_PID ]] && kill -TERM "$STREAM_PID" 2>/dev/null
      stream_finish "$out" "$err" || true
      cat "$out" "$err" >&2
      harness_failed "stream.py did not start streaming"
    fi
    sleep "$STREAM_SECONDS"
    for s in "${scenarios[@]}"; do
      kill -USR1 "$STREAM_PID" 2>/dev/null || true
      stream_wrk "stream_${s}_loaded" "$r" "$s" || { kill -TERM "$STREAM_PID"; harness_failed "wrk (stream_${s}_loaded)"; }
      kill -USR2 "$STREAM_PID" 2>/dev/null || true
    done
    stream_finish "$out" "$err" || harness_failed "stream.py (round $r)"
    record "{\"kind\":\"stream\",\"round\":$r,\"result\":$STREAM_RESULT}"
    stream_line "stream round $r" "$STREAM_RESULT"
    for s in "${scenarios[@]}"; do
      stream_wrk "stream_${s}_base" "$r" "$s" || harness_failed "wrk (stream_${s}_base)"
    done

    out="$LOGS/stream-ceiling-$r.txt" err="$LOGS/stream-ceiling-$r.err"
    stream_start "$out" "$err" --target redis "${common[@]}" --duration "$STREAM_SECONDS"
    stream_finish "$out" "$err" || harness_failed "stream.py --target redis (round $r)"
    record "{\"kind\":\"stream_ceiling\",\"round\":$r,\"result\":$STREAM_RESULT}"
    stream_line "redis ceiling round $r" "$STREAM_RESULT"
  done
  record_rss stream
}
