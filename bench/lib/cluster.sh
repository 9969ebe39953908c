# --redis-cluster: a second betsdb, on the same database, with a private
# 6-node Redis Cluster (scripts/lib/redis_cluster.sh) instead of the single
# Redis; every scenario then runs on one server and at once on the other
# (use_server), so that the two are measured side by side under the same
# machine load, with the same client settings. Sourced by bench/run.
# shellcheck shell=bash

CLUSTER_DIR="" CLUSTER_BETSDB_PID="" CLUSTER_API="" CLUSTER_API_PORT=""
SINGLE_BETSDB_PID="" SINGLE_API="" SINGLE_API_PORT=""

# start_bench_cluster: the cluster, started empty (as start_bench_redis).
start_bench_cluster() {
  CLUSTER_DIR="$STATE/redis-cluster"
  redis_cluster_stop "$CLUSTER_DIR"
  rm -rf "$CLUSTER_DIR"
  # shellcheck disable=SC2046 # the ports are words
  redis_cluster_create "$CLUSTER_DIR" $(free_cluster_ports 6) >"$LOGS/redis-cluster.log" 2>&1 \
    || { tail -30 "$LOGS/redis-cluster.log" >&2; harness_failed "the Redis Cluster did not start"; }
}

# start_cluster_betsdb: the same binary and settings as start_betsdb, on the
# cluster. The first server stays the current one (use_server).
start_cluster_betsdb() {
  CLUSTER_API_PORT=$(free_port)
  local -a extra=()
  [[ -n $SERVER_THREADS ]] && extra+=("--threads=$SERVER_THREADS")
  extra+=("${SERVER_FLAGS[@]}")
  BETSDB_LISTEN="127.0.0.1:$CLUSTER_API_PORT" \
  BETSDB_DATABASE_URL="$BENCH_DATABASE_URL" \
  BETSDB_REDIS_CLUSTER="$(redis_cluster_seeds "$CLUSTER_DIR")" BETSDB_REDIS_CLUSTER_TRACKING=on \
  BETSDB_ADMIN_TOKEN="$ADMIN_TOKEN" BETSDB_LOG_LEVEL=warn BETSDB_SIGNUP_RATE_LIMIT=0 BETSDB_SIGN_INS_PER_CLIENT=0 \
    "$BINARY" serve "${extra[@]}" >"$LOGS/betsdb-cluster.log" 2>&1 &
  CLUSTER_BETSDB_PID=$!
  CLUSTER_API="http://127.0.0.1:$CLUSTER_API_PORT"
  if ! wait_http "$CLUSTER_API/healthz"; then
    cat "$LOGS/betsdb-cluster.log" >&2
    die "betsdb (Redis Cluster) did not start"
  fi
  # /readyz: its slot map is loaded and every master connected.
  local _
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$CLUSTER_API/readyz" 2>/dev/null && break
    sleep 0.05
  done
  curl -fsS -o /dev/null "$CLUSTER_API/readyz" || harness_failed "betsdb (Redis Cluster) is not ready"
  SINGLE_BETSDB_PID=$BETSDB_PID SINGLE_API=$API SINGLE_API_PORT=$API_PORT
}

# use_server single|cluster: the server the scenarios measure.
use_server() {
  case $1 in
    single)
      [[ -n $SINGLE_API ]] && BETSDB_PID=$SINGLE_BETSDB_PID API=$SINGLE_API API_PORT=$SINGLE_API_PORT
      SUFFIX="" REDIS_MODE=single ;;
    cluster)
      BETSDB_PID=$CLUSTER_BETSDB_PID API=$CLUSTER_API API_PORT=$CLUSTER_API_PORT
      SUFFIX="_cluster" REDIS_MODE=cluster ;;
  esac
}

# on_each_server FUNCTION: runs it on the single-Redis server, then (with
# --redis-cluster) on the cluster's.
on_each_server() {
  use_server single
  "$@"
  if ((REDIS_CLUSTER)); then
    use_server cluster
    "$@"
    use_server single
  fi
}

# pause_cluster_betsdb / resume_cluster_betsdb: SIGSTOP and SIGCONT of the
# second betsdb around the stream phase, which measures the first one. Both
# share the database, and each publishes the match outbox (the changes the
# stream carries) to its own Redis and then deletes the rows: while the
# second one ran, it took a few of the first one's changes to its cluster's
# stream, and the phase counted them as events that no client received
# (1-9 of 920 a round in the full run of f9cf639). Stopped, not ended: its
# peak RSS is still read at the end of the run.
pause_cluster_betsdb() {
  [[ -n ${CLUSTER_BETSDB_PID:-} ]] || return 0
  kill -STOP "$CLUSTER_BETSDB_PID" 2>/dev/null || true
}

resume_cluster_betsdb() {
  [[ -n ${CLUSTER_BETSDB_PID:-} ]] || return 0
  kill -CONT "$CLUSTER_BETSDB_PID" 2>/dev/null || true
}

stop_cluster_betsdb() {
  [[ -n ${CLUSTER_BETSDB_PID:-} ]] || return 0
  kill -TERM "$CLUSTER_BETSDB_PID" 2>/dev/null || true
  kill -CONT "$CLUSTER_BETSDB_PID" 2>/dev/null || true  # if paused, it ends now
  for _ in $(seq 100); do kill -0 "$CLUSTER_BETSDB_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$CLUSTER_BETSDB_PID" 2>/dev/null || true
  wait "$CLUSTER_BETSDB_PID" 2>/dev/null || true
  CLUSTER_BETSDB_PID=""
}
