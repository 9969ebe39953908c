# --cluster (issue 17): the deployment topology of scripts/cluster (HAProxy
# in front of N betsdb instances, a PostgreSQL primary with a synchronous hot
# standby, a 6-node Redis Cluster), brought up by scripts/cluster itself on
# private free loopback ports with its state under .betsdb/bench/cluster/,
# seeded through HAProxy like the main run, then measured in one run with
# the main run's wrk settings:
#
#   direct   one instance (BETSDB_THREADS = cores), reached on its own port
#   h1       the same instance through HAProxy
#   h2, h3   2 and 3 instances through HAProxy, each with cores / N threads
#            (at least 1): on one machine more instances cannot add cores, so
#            they share them rather than each claiming all of them
#   h3ka     a diagnostic beside h3: the same 3 instances through a second
#            HAProxy whose only change is keeping its server connections
#            alive (scale_ka_start); not the topology's configuration
#
# direct and h1 run against the same process, one scenario after the other;
# h2 and h3 restart the instances (scripts/cluster up --instances N, which
# rewrites HAProxy's server list and reloads it) with their thread count.
# CPU per request is recorded by process group: betsdb (every instance),
# haproxy, postgres (the primary), standby, redis (the six nodes), wrk.
#
# Then, still with one instance: the standby's effect on cache-miss reads.
# A second instance, identical but without BETSDB_DATABASE_REPLICA_URL, and
# the topology's instance 1 (with it) take the same stream of reads that
# never repeat (GET /v1/users/{id}/bets?limit=20&max_stake=S, S distinct per
# request: every one a cache miss in the user's namespace, same rows, same
# cost), round by round in alternating order; betsdb_db_reads_total and the
# namespace's cache events are scraped before and after each run.
#
# Sourced by bench/run after scenarios.sh; runs in bench/run's shell.
# shellcheck shell=bash

SCALE_DIR="" SCALE_NOREPLICA_PID="" SCALE_STARTED=0 SCALE_KA_PID="" SCALE_KA_URL=""
SCALE_SCENARIOS=${SCALE_SCENARIOS:-matches,user_bets,summary,place}

scale_cluster() {
  env BETSDB_CLUSTER_DIR="$SCALE_DIR" \
    BETSDB_CLUSTER_PORT="$SCALE_HAPROXY_PORT" BETSDB_CLUSTER_BETSDB_PORT="$SCALE_BETSDB_PORT0" \
    BETSDB_CLUSTER_PG_PORT="$SCALE_PG_PORT0" BETSDB_CLUSTER_REDIS_PORTS="$SCALE_REDIS_PORTS" \
    BETSDB_CLUSTER_BINARY="$BINARY" BETSDB_ADMIN_TOKEN="$ADMIN_TOKEN" BETSDB_LOG_LEVEL=warn \
    BETSDB_SIGNUP_RATE_LIMIT=0 BETSDB_SIGN_INS_PER_CLIENT=0 "$BETSDB_ROOT/scripts/cluster" "$@"
}

# free_port_run N: the first of N consecutive free loopback ports (bounded tries).
free_port_run() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(2000):
    p = random.randrange(40000, 60000)
    if all(free(p + i) for i in range(n)):
        print(p); sys.exit(0)
sys.exit("no free port run")
PY
}

# threads for N instances: the topology's choice, cores / N, at least 1.
scale_threads() {
  local t=$(($(nproc) / $1))
  ((t >= 1)) || t=1
  echo "$t"
}

# scale_up N: N instances (fresh processes, cores / N threads each) behind
# HAProxy; returns once HAProxy's ready backend has all N servers UP.
scale_up() {
  local n=$1 threads pidfile
  threads=$(scale_threads "$n")
  # Instances already running keep their thread count in scripts/cluster:
  # stop them all (our own processes, by their pid files) and start afresh.
  for pidfile in "$SCALE_DIR"/betsdb/*.pid; do
    [[ -e $pidfile ]] || continue
    scale_stop_pid "$(cat "$pidfile")"
    rm -f "$pidfile"
  done
  log "--cluster: $n instance(s) behind HAProxy, $threads thread(s) each"
  BETSDB_THREADS=$threads scale_cluster up --instances "$n" >>"$LOGS/cluster-up.log" 2>&1 \
    || { tail -30 "$LOGS/cluster-up.log" >&2; harness_failed "scripts/cluster up --instances $n"; }
  eval "$(scale_cluster env)"
  SCALE_INSTANCE_THREADS=$threads
  local i pids=""
  for ((i = 1; i <= n; i++)); do
    local pid
    pid=$(cat "$SCALE_DIR/betsdb/$i.pid")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == betsdb ]] || harness_failed "instance $i: pid $pid is not betsdb"
    pids+="${pids:+,}$pid"
  done
  SCALE_BETSDB_PIDS=$pids
  SCALE_HAPROXY_PID=$(cat "$SCALE_DIR/haproxy/haproxy.pid")
  local url
  for url in $BETSDB_CLUSTER_INSTANCE_URLS; do
    wait_http "$url/readyz" || harness_failed "$url is not ready"
  done
  local up=0 _
  for _ in $(seq 100); do
    up=$(scale_haproxy_up_count)
    ((up == n)) && break
    sleep 0.2
  done
  ((up == n)) || harness_failed "HAProxy has $up of $n instances UP"
  TOKENS_WARM=""  # new processes: their token caches are empty
  record_load "scale_h$n"
}

# scale_haproxy_up_count: servers UP in HAProxy's ready backend.
scale_haproxy_up_count() {
  python3 - "$SCALE_DIR/haproxy/haproxy.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
out = b""
while chunk := s.recv(65536):
    out += chunk
lines = out.decode().splitlines()
cols = lines[0].lstrip("# ").split(",")
n = 0
for line in lines[1:]:
    row = dict(zip(cols, line.split(",")))
    if row.get("pxname") == "ready" and row.get("svname") not in ("FRONTEND", "BACKEND") and row.get("status") == "UP":
        n += 1
print(n)
PY
}

scale_stop_pid() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# use_scale_target direct|hN|noreplica: what the scenarios measure (API,
# the pids CPU is counted for, the name suffix).
use_scale_target() {
  local pg_primary pg_standby
  pg_primary=$(pg_node_pid "${BETSDB_CLUSTER_PG_DIRS%% *}")
  pg_standby=$(pg_node_pid "${BETSDB_CLUSTER_PG_DIRS##* }")
  PG_DIR_RESOLVED=${BETSDB_CLUSTER_PG_DIRS%% *}
  CLUSTER_DIR="$SCALE_DIR/redis" REDIS_MODE=cluster
  CPU_EXTRA=("haproxy=$SCALE_HAPROXY_PID" "standby=$pg_standby")
  case $1 in
    direct)
      API=${BETSDB_CLUSTER_INSTANCE_URLS%% *} BETSDB_PID=${SCALE_BETSDB_PIDS%%,*} SUFFIX=_direct ;;
    noreplica)
      API=$SCALE_NOREPLICA_API BETSDB_PID=$SCALE_NOREPLICA_PID SUFFIX="" ;;
    h3ka)
      API=$SCALE_KA_URL BETSDB_PID=$SCALE_BETSDB_PIDS SUFFIX=_$1
      CPU_EXTRA[0]="haproxy=$SCALE_KA_PID" ;;
    h*)
      API=$BETSDB_CLUSTER_URL BETSDB_PID=$SCALE_BETSDB_PIDS SUFFIX=_$1 ;;
  esac
  API_PORT=${API##*:}
  [[ -n $pg_primary ]] || harness_failed "the PostgreSQL primary is not running"
}

# scale_warm_tokens: every instance's token cache, each reached directly
# (through HAProxy, a user's one request reaches only one of them).
scale_warm_tokens() {
  local url saved_api=$API
  for url in $BETSDB_CLUSTER_INSTANCE_URLS; do
    API=$url warm_tokens
  done
  API=$saved_api
  TOKENS_WARM+="[$BETSDB_CLUSTER_URL][${SCALE_KA_URL:-}]"
}

# scale_ka_start: a diagnostic, not the topology: a second HAProxy with
# scripts/cluster's config except that it keeps its connections to the
# instances alive (option http-keep-alive, HAProxy's default, instead of
# http-server-close), on its own port, in front of the same instances; it
# tells how much of the proxy's cost is one new server connection per request.
scale_ka_start() {
  local dir=$STATE/haproxy-keepalive port
  rm -rf "$dir"
  mkdir -p "$dir"
  port=$(free_port)
  sed -e "s|^\( *\)option http-server-close|\1option http-keep-alive|" \
      -e "s|bind 127.0.0.1:$SCALE_HAPROXY_PORT\$|bind 127.0.0.1:$port|" \
      -e "s|$SCALE_DIR/haproxy/|$dir/|g" "$SCALE_DIR/haproxy/haproxy.cfg" >"$dir/haproxy.cfg"
  grep -q 'option http-keep-alive' "$dir/haproxy.cfg" && grep -q "bind 127.0.0.1:$port" "$dir/haproxy.cfg" \
    || harness_failed "could not derive the keep-alive HAProxy config"
  haproxy -f "$dir/haproxy.cfg" -D >"$LOGS/haproxy-keepalive.log" 2>&1 \
    || { cat "$LOGS/haproxy-keepalive.log" >&2; harness_failed "the keep-alive HAProxy did not start"; }
  SCALE_KA_PID=$(cat "$dir/haproxy.pid")
  SCALE_KA_URL="http://127.0.0.1:$port"
  local _
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$SCALE_KA_URL/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  harness_failed "the keep-alive HAProxy does not reach a ready instance"
}

scale_ka_stop() {
  [[ -n ${SCALE_KA_PID:-} ]] || return 0
  if [[ $(cat "/proc/$SCALE_KA_PID/comm" 2>/dev/null) == haproxy ]]; then
    scale_stop_pid "$SCALE_KA_PID"
  fi
  SCALE_KA_PID="" SCALE_KA_URL=""
}

# scale_scenarios TARGET...: each selected scenario on each target in turn.
scale_scenarios() {
  local s t
  for s in ${SCALE_SCENARIOS//,/ }; do
    [[ $s == place || $s == cart ]] && scale_warm_tokens
    for t in "$@"; do
      use_scale_target "$t"
      "scenario_$s"
    done
  done
}

# scale_start: the topology, seeded. Sets ADMIN_TOKEN when the main run did not.
scale_start() {
  SCALE_DIR="$STATE/cluster"
  SCALE_DATA="$STATE/data-cluster"
  rm -rf "$SCALE_DATA"
  mkdir -p "$SCALE_DATA"
  [[ -n ${ADMIN_TOKEN:-} ]] || ADMIN_TOKEN="bench-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # Leftovers of an interrupted run (its own state folder only).
  if [[ -f $SCALE_DIR/config ]]; then
    BETSDB_CLUSTER_DIR="$SCALE_DIR" "$BETSDB_ROOT/scripts/cluster" down --purge >>"$LOGS/cluster-up.log" 2>&1 || true
  fi
  rm -rf "$SCALE_DIR"
  SCALE_HAPROXY_PORT=$(free_port)
  SCALE_BETSDB_PORT0=$(free_port_run 3)
  SCALE_PG_PORT0=$(free_port_run 2)
  SCALE_REDIS_PORTS=$(free_cluster_ports 6)
  SCALE_STARTED=1
  log "--cluster: the topology of scripts/cluster under $SCALE_DIR (HAProxy :$SCALE_HAPROXY_PORT)"
  scale_up 1
  local users=${SCALE_USERS:-20000}
  ((SMOKE)) && users=2000
  log "--cluster: seeding through HAProxy ($users users)"
  local -a args=(--users "$users")
  ((SMOKE)) && args+=(--bettors 50 --bets-per-bettor 5 --place-matches 20 --cart-matches 20)
  python3 "$BENCH_DIR/seed.py" --api "$BETSDB_CLUSTER_URL" --admin-token "$ADMIN_TOKEN" --out "$SCALE_DATA" "${args[@]}" \
    >"$LOGS/seed-cluster.txt" 2>&1 || { cat "$LOGS/seed-cluster.txt" >&2; harness_failed "seeding the cluster"; }
  local primary
  primary=${BETSDB_CLUSTER_PG_PORTS%% *}
  record "$(python3 - "$SCALE_DATA/seed.json" <<PY
import json, subprocess, sys
def sql(q):
    try:
        return subprocess.run(["psql", "-h", "127.0.0.1", "-p", "$primary", "-U", "postgres", "-tAc", q],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
def ver(p):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=\${Version}", p], capture_output=True, text=True).stdout.strip()
    except Exception:
        return None
print(json.dumps({"kind": "scale_meta", "seed": json.load(open(sys.argv[1])), "cores": $(nproc),
                  "threads": {"1": $(scale_threads 1), "2": $(scale_threads 2), "3": $(scale_threads 3)},
                  "scenarios": "$SCALE_SCENARIOS".split(","), "haproxy": ver("haproxy"),
                  "pg": {"synchronous_commit": sql("SHOW synchronous_commit"),
                         "synchronous_standby_names": sql("SHOW synchronous_standby_names"),
                         "fsync": sql("SHOW fsync")}}))
PY
)"
}

# scale_metrics URL: the counters the standby comparison needs, as JSON.
scale_metrics() {
  curl -fsS -m 5 "$1/metrics" | python3 -c '
import json, re, sys
out = {}
for line in sys.stdin:
    m = re.match(r"(betsdb_db_reads_total|betsdb_cache_events_total)\{([^}]*)\} (\S+)", line)
    if not m:
        continue
    labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(2)))
    if m.group(1) == "betsdb_db_reads_total":
        key = "reads " + labels["source"] + " " + labels["reason"]
    elif labels.get("namespace") == "bets_by_email":  # the lists of one user
        key = "user_bets cache " + labels["event"]
    else:
        continue
    out[key] = out.get(key, 0) + float(m.group(3))
print(json.dumps(out))'
}

# scale_miss: cache-miss reads from the primary only, and with the standby.
scale_miss() {
  local port threads=$SCALE_INSTANCE_THREADS
  port=$(free_port)
  (
    unset BETSDB_REDIS_URL BETSDB_DATABASE_REPLICA_URL
    exec env BETSDB_LISTEN="127.0.0.1:$port" BETSDB_DATABASE_URL="$BETSDB_CLUSTER_DATABASE_URL" \
      BETSDB_REDIS_CLUSTER="$BETSDB_CLUSTER_REDIS_SEEDS" BETSDB_ADMIN_TOKEN="$ADMIN_TOKEN" \
      BETSDB_LOG_LEVEL=warn BETSDB_SIGNUP_RATE_LIMIT=0 BETSDB_SIGN_INS_PER_CLIENT=0 BETSDB_THREADS="$threads" "$BINARY" serve
  ) >"$LOGS/betsdb-noreplica.log" 2>&1 &
  SCALE_NOREPLICA_PID=$!
  SCALE_NOREPLICA_API="http://127.0.0.1:$port"
  wait_http "$SCALE_NOREPLICA_API/readyz" || { cat "$LOGS/betsdb-noreplica.log" >&2; harness_failed "betsdb without a standby did not start"; }
  local id token path
  id=$(first_user_field "$DATA/bettors.txt" 1)
  token=$(first_user_field "$DATA/bettors.txt" 2)
  path="/v1/users/$id/bets?limit=20"
  use_scale_target direct
  SUFFIX=""
  if ! route_available GET "$path" "$token"; then
    not_available miss_primary "GET /v1/users/{id}/bets"
    return 0
  fi
  log "--cluster: cache-miss reads (GET $path&max_stake=S, S never repeats) without and with the standby"
  # The place runs before this leave autovacuum work on the primary, which
  # would count as its CPU in whichever variant it overlapped: settle it first.
  local pg=${BETSDB_CLUSTER_PG_PORTS%% *}
  psql -h 127.0.0.1 -p "$pg" -U postgres -qc "VACUUM (ANALYZE)" betsdb >>"$LOGS/cluster-up.log" 2>&1 \
    && psql -h 127.0.0.1 -p "$pg" -U postgres -qc "CHECKPOINT" betsdb >>"$LOGS/cluster-up.log" 2>&1 \
    || warn "could not vacuum the primary before the cache-miss runs"
  local start=0 r variant
  local -a order
  local -a wrk_env=(bet_list_miss.lua BENCH_MODE=user_stake BENCH_STATUSES="$STATUSES" BENCH_USERS="$DATA/bettors.txt")
  for variant in primary standby; do  # tokens, pools, the standby's replay sample
    scale_miss_target "$variant"
    if ((! SMOKE)); then
      DURATION=1 run_wrk "miss_$variant" warmup "$API$path" "${wrk_env[@]}" BENCH_START="$start" \
        || harness_failed "wrk (miss warm-up)"
      start=$WRK_NEXT
    fi
  done
  for r in $(seq "$ROUNDS"); do
    if ((r % 2)); then order=(primary standby); else order=(standby primary); fi
    for variant in "${order[@]}"; do
      scale_miss_target "$variant"
      local m0 m1
      m0=$(scale_metrics "$API") || harness_failed "scraping $API/metrics"
      run_wrk "miss_$variant" "$r" "$API$path" "${wrk_env[@]}" BENCH_START="$start" || harness_failed "wrk (miss_$variant)"
      m1=$(scale_metrics "$API") || harness_failed "scraping $API/metrics"
      start=$WRK_NEXT
      record "{\"kind\":\"scale_reads\",\"scenario\":\"miss_$variant\",\"round\":$r,\"before\":$m0,\"after\":$m1}"
    done
  done
  scale_stop_pid "$SCALE_NOREPLICA_PID"
  wait "$SCALE_NOREPLICA_PID" 2>/dev/null || true
  SCALE_NOREPLICA_PID=""
}

scale_miss_target() {
  if [[ $1 == primary ]]; then
    use_scale_target noreplica
  else
    use_scale_target direct
  fi
  SUFFIX=""
}

# scale_phase: all of the above, with the main run's variables put back after.
scale_phase() {
  local saved_data=$DATA saved_place=$PLACE_NEXT saved_cart=$CART_NEXT saved_cluster=${CLUSTER_DIR:-}
  local saved_mode=$REDIS_MODE saved_pgdir=${PG_DIR_RESOLVED:-} saved_api=${API:-} saved_port=${API_PORT:-}
  local saved_pid=${BETSDB_PID:-} saved_warm=${TOKENS_WARM:-}
  [[ $SCALE_STARTED == 1 ]] || scale_start
  DATA=$SCALE_DATA PLACE_NEXT=0 CART_NEXT=0 SKIP_RSS=1
  scale_scenarios direct h1
  scale_miss
  scale_up 2
  scale_scenarios h2
  scale_up 3
  scale_ka_start
  scale_scenarios h3 h3ka
  scale_ka_stop
  record_load scale_end
  DATA=$saved_data PLACE_NEXT=$saved_place CART_NEXT=$saved_cart CLUSTER_DIR=$saved_cluster
  REDIS_MODE=$saved_mode PG_DIR_RESOLVED=$saved_pgdir API=$saved_api API_PORT=$saved_port
  BETSDB_PID=$saved_pid TOKENS_WARM=$saved_warm SUFFIX="" SKIP_RSS="" CPU_EXTRA=()
  scale_stop
}

# scale_stop: the topology down and its state deleted (called again by stop_all).
scale_stop() {
  scale_ka_stop
  [[ -n ${SCALE_NOREPLICA_PID:-} ]] && scale_stop_pid "$SCALE_NOREPLICA_PID"
  SCALE_NOREPLICA_PID=""
  if ((SCALE_STARTED)); then
    SCALE_STARTED=0
    BETSDB_CLUSTER_DIR="$SCALE_DIR" "$BETSDB_ROOT/scripts/cluster" down --purge >>"$LOGS/cluster-up.log" 2>&1 || true
  fi
  return 0
}
