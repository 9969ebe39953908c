#!/usr/bin/env bash
# Issue 19: "settling a match with 100,000 pending legs of accumulators takes
# under 2 s". Seeds, directly in SQL (bench/sql/settle_legs_seed.sql), two
# groups of --accas pending 4-leg accumulators, each group with one leg on
# its own target match and three on other open matches, then times
# POST /v1/matches/{id}/result through a running release betsdb:
#   lost: the first target settled "2" (its legs are on "1"): every leg lost,
#         so every accumulator of the group becomes lost;
#   won:  the second target settled "1": every leg won, the accumulators stay
#         pending (their other legs are pending).
# Each round starts from a fresh copy of the seeded database (CREATE
# DATABASE ... TEMPLATE) and a fresh server and Redis; the rounds alternate
# which settlement runs first. Then, on another copy, settle_match's
# statements run under EXPLAIN (ANALYZE, BUFFERS) (bench/settle_explain.py),
# and PostgreSQL's log of the timed runs (log_min_duration_statement) gives
# each statement's time inside the server's own settlement.
#
# Private PostgreSQL (fsync and synchronous_commit on, as bench/run) and Redis
# on free loopback ports, state under .betsdb/bench-settle/ (BENCH_STATE),
# all stopped at the end. Not a test: reports, never fails on the target.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/../scripts/lib/common.sh"

usage() {
  cat <<'USAGE'
usage: bench/settle_legs.sh [options]

  --accas N         pending accumulators with a leg on each target (default 100000)
  --users N         users owning them (default 50000: two per user per target)
  --others N        other open matches the other legs are on (default 200)
  --rounds N        fresh copies settled; medians reported (default 3)
  --binary PATH     betsdb to run (default build/release/betsdb, built if missing)
  --server-flag F   pass F to `betsdb serve` (repeatable)
  --no-explain      skip the EXPLAIN ANALYZE of settle_match's statements
  --what-if FILE    run this SQL file on the seeded database before the
                    copies are made (a schema change to try without a
                    migration, e.g. bench/sql/settle_legs_what_if.sql);
                    recorded in the results
  -h, --help        this text

Writes $STATE/results/settle_legs.json and the logs (explain-*.txt,
pg-durations-*.txt) under $STATE/logs; prints a summary.
USAGE
}

ACCAS=100000 USERS=50000 OTHERS=200 ROUNDS=3 BINARY="" EXPLAIN=1 SERVER_FLAGS=() WHAT_IF=""
while (($#)); do
  case $1 in
    --accas) ACCAS=$2; shift 2 ;;
    --users) USERS=$2; shift 2 ;;
    --others) OTHERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --binary) BINARY=$2; shift 2 ;;
    --server-flag) SERVER_FLAGS+=("$2"); shift 2 ;;
    --no-explain) EXPLAIN=0; shift ;;
    --what-if) WHAT_IF=$(realpath "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
for v in ACCAS USERS OTHERS ROUNDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v,,} must be a positive integer"
done
((OTHERS >= 3 * ((ACCAS + USERS - 1) / USERS))) \
  || die "--others must be at least 3 x accumulators per user and target (no duplicate legs sets)"

cd "$BETSDB_ROOT"
if [[ -z $BINARY ]]; then
  [[ -f build/release/build.ninja ]] || cmake --preset release >/dev/null
  log "building betsdb (release)"
  cmake --build build/release --target betsdb || die "the release build failed; pass --binary PATH"
  BINARY="$BETSDB_ROOT/build/release/betsdb"
fi
[[ -x $BINARY ]] || die "no betsdb binary at $BINARY"

STATE="${BENCH_STATE:-$BETSDB_ROOT/.betsdb/bench-settle}"
LOGS="$STATE/logs" RES="$STATE/results"
rm -rf "$LOGS" "$RES"
mkdir -p "$LOGS" "$RES"

PG_PORT="" REDIS_PORT="" BETSDB_PID=""
stop_server() {
  [[ -n $BETSDB_PID ]] || return 0
  kill -TERM "$BETSDB_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$BETSDB_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$BETSDB_PID" 2>/dev/null || true
  wait "$BETSDB_PID" 2>/dev/null || true
  BETSDB_PID=""
}
stop_everything() {
  stop_server
  [[ -n $REDIS_PORT ]] && stop_redis "$REDIS_PORT"
  [[ -n $PG_PORT ]] && stop_postgres "$STATE/pg"
  return 0
}
trap stop_everything EXIT

psql_q() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

log "private PostgreSQL and Redis under $STATE"
PG_PORT=$(free_port)
stop_postgres "$STATE/pg"
start_postgres "$STATE/pg" "$PG_PORT"
PG_LOG="$PG_DIR_RESOLVED/postgres.log"
REDIS_PORT=$(free_port)
rm -rf "$STATE/redis"
start_redis "$STATE/redis" "$REDIS_PORT"
redis-cli -p "$REDIS_PORT" config set slowlog-log-slower-than 10000 >/dev/null
for db in settle_seed settle_run settle_explain; do
  PGOPTIONS="-c client_min_messages=warning" psql_q -c "DROP DATABASE IF EXISTS $db" postgres
done
psql_q -c "CREATE DATABASE settle_seed" postgres
"$BINARY" migrate "--database-url=postgresql://postgres@127.0.0.1:$PG_PORT/settle_seed" >"$LOGS/migrate.log" 2>&1 \
  || { cat "$LOGS/migrate.log" >&2; die "betsdb migrate failed"; }

log "seeding 2 x $ACCAS pending 4-leg accumulators of $USERS users in SQL"
t0=$SECONDS
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
  -v users="$USERS" -v accas="$ACCAS" -v others="$OTHERS" \
  -f "$BENCH_DIR/sql/settle_legs_seed.sql" settle_seed >"$LOGS/seed.log" 2>&1 \
  || { cat "$LOGS/seed.log" >&2; die "seeding failed"; }
SEED_SECONDS=$((SECONDS - t0))
seed_value() { sed -n "s/^$1 //p" "$LOGS/seed.log"; }
TARGET_LOST=$(seed_value target_lost) TARGET_WON=$(seed_value target_won)
[[ $(seed_value inconsistent_balances) == 0 ]] || die "after seeding, balances differ from their ledger sums"
[[ $(seed_value pending_legs_lost) == "$ACCAS" && $(seed_value pending_legs_won) == "$ACCAS" ]] \
  || die "seeding: expected $ACCAS pending legs on each target ($(cat "$LOGS/seed.log"))"
DB_SIZE=$(psql_q -c "SELECT pg_size_pretty(pg_database_size('settle_seed'))" postgres)
log "seeded in ${SEED_SECONDS} s: $(seed_value accumulators) accumulators, $(seed_value legs) legs, database $DB_SIZE"
if [[ -n $WHAT_IF ]]; then
  log "what-if: $WHAT_IF"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -f "$WHAT_IF" settle_seed >"$LOGS/what-if.log" 2>&1 \
    || { cat "$LOGS/what-if.log" >&2; die "the what-if SQL failed"; }
fi
# Statements of the timed settlements slower than this are logged with their duration.
psql_q -c "ALTER DATABASE settle_seed SET log_min_duration_statement = 50" postgres

ADMIN_TOKEN="settle-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_server() {
  API_PORT=$(free_port)
  BETSDB_LISTEN="127.0.0.1:$API_PORT" \
  BETSDB_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/settle_run" \
  BETSDB_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  BETSDB_ADMIN_TOKEN="$ADMIN_TOKEN" BETSDB_LOG_LEVEL=warn BETSDB_SIGNUP_RATE_LIMIT=0 BETSDB_SIGN_INS_PER_CLIENT=0 \
    "$BINARY" serve "${SERVER_FLAGS[@]}" >>"$LOGS/betsdb.log" 2>&1 &
  BETSDB_PID=$!
  wait_http "http://127.0.0.1:$API_PORT/healthz" || { cat "$LOGS/betsdb.log" >&2; die "betsdb did not start"; }
  API="http://127.0.0.1:$API_PORT"
}

# settle NAME MATCH RESULT ROUND: one timed POST; appends a JSON line to $RES/raw.jsonl.
settle() {
  local name=$1 match=$2 result=$3 round=$4 out="$LOGS/answer-$1-$4.json" line0 load0 code secs
  line0=$(wc -l <"$PG_LOG")
  redis-cli -p "$REDIS_PORT" slowlog reset >/dev/null
  load0=$(loadavg)
  read -r code secs < <(curl -s -o "$out" -w '%{http_code} %{time_total}\n' --max-time 120 -X POST \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    --data "{\"result\":\"$result\"}" "$API/v1/matches/$match/result") || { code=000; secs=0; }
  sleep 0.2  # the log line of the commit
  tail -n +"$((line0 + 1))" "$PG_LOG" | grep -E 'duration: ' >"$LOGS/pg-durations-$name-$round.txt" || true
  # Redis commands over 10 ms (the cache invalidation of every bettor's list).
  redis-cli -p "$REDIS_PORT" slowlog get 10 >"$LOGS/redis-slowlog-$name-$round.txt" 2>&1 || true
  python3 - "$name" "$round" "$code" "$secs" "$out" "$load0" "$(loadavg)" "$LOGS/pg-durations-$name-$round.txt" \
    >>"$RES/raw.jsonl" <<'PY'
import json, re, sys
name, rnd, code, secs, out, load0, load1, durations = sys.argv[1:]
try:
    answer = json.load(open(out))
except Exception:
    answer = open(out, errors="replace").read()[:500]
stmts = []
for line in open(durations):
    m = re.search(r"duration: ([0-9.]+) ms\s+(?:execute|statement)\s*([^:]*):\s*(.*)", line)
    if m:
        stmts.append({"ms": float(m.group(1)), "name": m.group(2).strip(), "sql": m.group(3)[:60]})
print(json.dumps({"name": name, "round": int(rnd), "http": int(code), "seconds": float(secs),
                  "answer": answer, "loadavg_before": load0, "loadavg_after": load1, "statements": stmts}))
PY
  printf '    %-5s round %s: HTTP %s in %6.3f s (load %s)\n' "$name" "$round" "$code" "$secs" "$load0" >&2
}

: >"$RES/raw.jsonl"
for r in $(seq "$ROUNDS"); do
  stop_server
  PGOPTIONS="-c client_min_messages=warning" psql_q -c "DROP DATABASE IF EXISTS settle_run" postgres
  psql_q -c "CREATE DATABASE settle_run TEMPLATE settle_seed" postgres
  psql_q -c "ALTER DATABASE settle_run SET log_min_duration_statement = 50" postgres
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  start_server
  psql_q -c "CHECKPOINT" settle_run  # the copy's writes are not the settlement's
  log "round $r: fresh copy, fresh betsdb"
  if ((r % 2)); then
    settle lost "$TARGET_LOST" 2 "$r"
    settle won "$TARGET_WON" 1 "$r"
  else
    settle won "$TARGET_WON" 1 "$r"
    settle lost "$TARGET_LOST" 2 "$r"
  fi
  # What the settlements left: the lost group's bets lost, the won group's legs won and bets pending.
  psql_q -F' ' -c "
    SELECT 'check',
      (SELECT count(*) FROM bets b WHERE b.status = 'lost' AND b.id IN (SELECT bet_id FROM bet_legs WHERE match_id = $TARGET_LOST)),
      (SELECT count(*) FROM bet_legs WHERE match_id = $TARGET_WON AND status = 'won'),
      (SELECT count(*) FROM bets b WHERE b.status = 'pending' AND b.id IN (SELECT bet_id FROM bet_legs WHERE match_id = $TARGET_WON))" \
    settle_run >"$LOGS/check-$r.txt"
  read -r _ lost_bets won_legs pending_bets <"$LOGS/check-$r.txt"
  printf '    after round %s: %s accumulators lost, %s legs won, %s of their accumulators still pending\n' \
    "$r" "$lost_bets" "$won_legs" "$pending_bets" >&2
  echo "{\"name\":\"check\",\"round\":$r,\"lost_bets\":$lost_bets,\"won_legs\":$won_legs,\"pending_bets\":$pending_bets}" >>"$RES/raw.jsonl"
done
stop_server

if ((EXPLAIN)); then
  log "EXPLAIN (ANALYZE, BUFFERS) of settle_match's statements, each settlement in a rolled-back transaction"
  PGOPTIONS="-c client_min_messages=warning" psql_q -c "DROP DATABASE IF EXISTS settle_explain" postgres
  psql_q -c "CREATE DATABASE settle_explain TEMPLATE settle_seed" postgres
  psql_q -c "ALTER DATABASE settle_explain RESET log_min_duration_statement" postgres
  for what in "lost $TARGET_LOST 2" "won $TARGET_WON 1"; do
    read -r name match result <<<"$what"
    python3 "$BENCH_DIR/settle_explain.py" --match "$match" --result "$result" >"$LOGS/explain-$name.sql"
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -f "$LOGS/explain-$name.sql" settle_explain \
      >"$LOGS/explain-$name.txt" 2>&1 || { tail -20 "$LOGS/explain-$name.txt" >&2; die "EXPLAIN ($name) failed"; }
    echo "    $name: $(grep -E '^ *(===|Execution Time)' "$LOGS/explain-$name.txt" | tr '\n' ' ')" >&2
  done
fi

python3 - "$RES/raw.jsonl" "$RES/settle_legs.json" "$ACCAS" "$USERS" "$OTHERS" "$SEED_SECONDS" "$DB_SIZE" \
  "$(nproc)" "$("$BINARY" version 2>/dev/null || echo '?')" "$(git -C "$BETSDB_ROOT" rev-parse --short HEAD)" \
  "$WHAT_IF" <<'PY'
import json, statistics, sys
raw, out, accas, users, others, seed_s, db_size, cpus, version, commit, what_if = sys.argv[1:]
rows = [json.loads(l) for l in open(raw) if l.strip()]
res = {"accumulators_per_target": int(accas), "users": int(users), "other_matches": int(others),
       "seed_seconds": int(seed_s), "database_size": db_size, "cpus": int(cpus), "betsdb": version,
       "commit": commit, "what_if": what_if or None, "target_seconds": 2.0, "runs": rows, "summary": {}}
for name in ("lost", "won"):
    runs = [r for r in rows if r["name"] == name]
    ok = [r["seconds"] for r in runs if r["http"] == 200]
    per_stmt = {}
    for r in runs:
        for s in r["statements"]:
            per_stmt.setdefault(s["name"] or s["sql"], []).append(s["ms"])
    res["summary"][name] = {
        "median_s": statistics.median(ok) if ok else None, "min_s": min(ok) if ok else None,
        "max_s": max(ok) if ok else None, "ok_runs": len(ok), "runs": len(runs),
        "http": [r["http"] for r in runs],
        "statements_median_ms": {k: statistics.median(v) for k, v in per_stmt.items()},
        "answer": runs[0]["answer"] if runs else None,
    }
json.dump(res, open(out, "w"), indent=2)
print(f"\nsettling a match with {accas} pending accumulator legs ({users} users, 4 legs each), "
      f"target < 2 s:")
for name, s in res["summary"].items():
    med = "-" if s["median_s"] is None else f'{s["median_s"]:.3f} s'
    verdict = "-" if s["median_s"] is None else ("met" if s["median_s"] < 2 else "MISSED")
    print(f"  {name:5} median {med} (min {s['min_s']}, max {s['max_s']}; HTTP {s['http']}) [{verdict}]")
    for k, v in sorted(s["statements_median_ms"].items(), key=lambda kv: -kv[1]):
        print(f"        {v:9.1f} ms  {k}")
print(f"results: {out}")
PY
