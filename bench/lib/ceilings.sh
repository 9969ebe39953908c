# The ceilings each scenario is compared with, measured in the same run with
# the same client settings: nginx serving a static file of the matches
# response's size, pgbench committing the placement's and the checkout's
# transaction on the same PostgreSQL, redis-benchmark on the same Redis.
# Sourced by bench/run.
# shellcheck shell=bash

CEILING_USERS=20000
# Disjoint match ranges for the three pgbench scripts (place, checkout and
# the batched place), so their bets never meet in the unique index.
CEILING_MATCHES_PER_SCRIPT=100

ceiling_nginx() {
  local www="$STATE/nginx/www"
  mkdir -p "$www"
  cp "$DATA/matches.json" "$www/matches.json"
  chmod -R a+rX "$STATE/nginx"
  start_nginx "$www"
  log "ceiling nginx: static $(stat -c %s "$www/matches.json")-byte file"
  local r
  for r in $(seq "$ROUNDS"); do
    run_wrk nginx "$r" "http://127.0.0.1:$NGINX_PORT/matches.json" matches.lua || harness_failed "wrk on nginx"
  done
  stop_nginx
}

seed_ceiling_db() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
    -v users="$CEILING_USERS" -v matches=$((3 * CEILING_MATCHES_PER_SCRIPT)) \
    -f "$BENCH_DIR/sql/ceiling_seed.sql" bench_ceiling >"$LOGS/ceiling-seed.log" 2>&1 \
    || { cat "$LOGS/ceiling-seed.log" >&2; harness_failed "seeding the pgbench database"; }
}

# pgbench_scripts: the place/checkout scripts from the server's own statement
# (bench/pgbench/generate.py); if the source has moved on in a way the
# generator does not understand, the checked-in copies, and a note saying so.
pgbench_scripts() {
  PGBENCH_SCRIPTS="$STATE/pgbench"
  if python3 "$BENCH_DIR/pgbench/generate.py" "$BETSDB_ROOT" "$PGBENCH_SCRIPTS" 2>"$LOGS/pgbench-generate.err"; then
    record '{"kind":"pgbench_sql","source":"generated from src/store/pg/bet_store.cpp"}'
  else
    note ceilings "pgbench scripts: $(cat "$LOGS/pgbench-generate.err"); used the checked-in copies in bench/pgbench/, which may differ from what this server commits"
    record '{"kind":"pgbench_sql","source":"checked-in copies (bench/pgbench/*.sql)"}'
    PGBENCH_SCRIPTS="$BENCH_DIR/pgbench"
  fi
}

ceiling_bets() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT count(*) FROM bets" bench_ceiling
}

# ceiling_pgbench NAME ITEMS FIRST_MATCH [CLIENTS [SCRIPT [STRIDE]]]: NAME.sql
# (or SCRIPT) with -j/-T as wrk's -t/-d and -c as wrk's (or CLIENTS); a
# transaction of SCRIPT takes STRIDE bettors' indexes (default 1).
# The statement answers even when it placed nothing (a duplicate, no funds),
# so the bets it inserted are counted and compared with the transactions.
ceiling_pgbench() {
  local name=$1 items=$2 m0=$3 clients=${4:-$CONNECTIONS} file=${5:-$PGBENCH_SCRIPTS/$1.sql} stride=${6:-1}
  local start=0 r
  log "ceiling pgbench: $name transaction, -c$clients -j$THREADS -T$DURATION"
  for r in $(seq "$ROUNDS"); do
    local before
    before=$(ceiling_bets)
    local dir="$LOGS/pgbench-$name-$r"
    mkdir -p "$dir"
    local cpu0 cpu1 client_cpu
    cpu0=$(cpu_snapshot)
    times >"$LOGS/times-before.txt"  # pgbench's own CPU, as for wrk
    "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
      -c "$clients" -j "$THREADS" -T "$DURATION" \
      -D n=0 -D start="$start" -D clients="$clients" \
      -D u0=1 -D users="$CEILING_USERS" -D m0="$m0" -D matches="$CEILING_MATCHES_PER_SCRIPT" \
      -f "$file" -l --log-prefix="$dir/txn" bench_ceiling \
      >"$dir/out.txt" 2>&1 || true  # an aborted run is reported by collect.py
    times >"$LOGS/times-after.txt"
    cpu1=$(cpu_snapshot)
    client_cpu=$(python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))' \
      "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-before.txt")" \
      "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-after.txt")")
    local result inserted
    inserted=$(($(ceiling_bets) - before))
    result=$(python3 "$BENCH_DIR/collect.py" pgbench "$dir" "$start" "$clients" "$items" "$inserted") \
      || harness_failed "reading pgbench output ($dir)"
    record "{\"kind\":\"pgbench\",\"name\":\"$name\",\"round\":$r,\"result\":$result,\"cpu_before\":$cpu0,\"cpu_after\":$cpu1,\"wrk_cpu_s\":$client_cpu}"
    start=$((start + ($(json_get "$result" next) - start) * stride))
    if [[ $name == checkout ]]; then
      CHECKOUT_CEILING_TPS=$(python3 -c 'import sys; print(max(float(sys.argv[1] or 0), float(sys.argv[2])))' \
        "${CHECKOUT_CEILING_TPS:-}" "$(json_get "$result" tps)")
    fi
    if grep -q '"aborted": true' <<<"$result"; then
      warn "pgbench $name round $r aborted: $(grep -m1 -i error "$dir/out.txt")"
    fi
    if grep -q '"placed_all": false' <<<"$result"; then
      note ceilings "pgbench $name round $r inserted $inserted bets in $(json_get "$result" transactions) transactions of $items: some placed nothing"
    fi
    rm -f "$dir"/txn.*  # large; the parsed numbers are recorded
  done
}

# redis-benchmark GET and SET, without and with pipelining (16 deep), on a
# database number betsdb does not use. Request counts scale with --duration.
ceiling_redis() {
  log "ceiling redis-benchmark: GET/SET, -c$CONNECTIONS, pipeline 1 and 16"
  local r p n
  for r in $(seq "$ROUNDS"); do
    for p in 1 16; do
      n=$((DURATION * (p == 1 ? 20000 : 100000)))
      local csv="$LOGS/redis-$r-p$p.csv"
      redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" --dbnum 15 -c "$CONNECTIONS" -r 100000 \
        -n "$n" -P "$p" -t get,set --csv >"$csv" 2>"$LOGS/redis-bench.err" \
        || harness_failed "redis-benchmark"
      local line
      while read -r line; do
        record "{\"kind\":\"redis\",\"round\":$r,\"result\":$line}"
      done < <(python3 "$BENCH_DIR/collect.py" redis "$csv" "$p")
    done
  done
  redis-cli -p "$REDIS_PORT" -n 15 flushdb >/dev/null
}

# ceiling_pgbench_batch SIZE: the group commit's statement (issue 24) with
# SIZE bettors' bets in each transaction, SIZE being the mean batch the place
# scenario saw, from as many clients as betsdb sends placing statements at
# once (PlacementBatcher::kMaxInFlight, one per shard). Run after the place
# scenario, which observes the size.
ceiling_pgbench_batch() {
  local size=$1 clients=${SERVER_THREADS:-$(nproc)}
  BATCH_CEILING_PENDING=0
  if ! python3 "$BENCH_DIR/pgbench/generate.py" "$BETSDB_ROOT" "$STATE/pgbench-batch" "$size" \
    2>"$LOGS/pgbench-batch.err"; then
    note ceilings "batched pgbench ceiling not measured: $(cat "$LOGS/pgbench-batch.err")"
    return 0
  fi
  record "{\"kind\":\"batch_ceiling\",\"size\":$size,\"clients\":$clients}"
  ceiling_pgbench place_batch "$size" $((1 + 2 * CEILING_MATCHES_PER_SCRIPT)) "$clients" \
    "$STATE/pgbench-batch/place_batch.sql" "$size"
}

run_ceilings() {
  BATCH_CEILING_PENDING=1
  ceiling_nginx
  seed_ceiling_db
  pgbench_scripts
  ceiling_pgbench place 1 1
  ceiling_pgbench checkout 5 $((1 + CEILING_MATCHES_PER_SCRIPT))
  ceiling_redis
}
