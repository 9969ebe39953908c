# Private servers for the benchmark: PostgreSQL, Redis, betsdb and nginx,
# all on free loopback ports with their state under .betsdb/bench/.
# Sourced by bench/run after scripts/lib/common.sh.
# shellcheck shell=bash

# start_bench_postgres: the same settings as scripts/run's private server
# (fsync and synchronous_commit on), so placements pay a real commit.
start_bench_postgres() {
  PG_PORT=$(free_port)
  stop_postgres "$STATE/pg"
  start_postgres "$STATE/pg" "$PG_PORT"
  local db
  for db in betsdb_bench bench_ceiling; do
    PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
  done
  BENCH_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/betsdb_bench"
  CEILING_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/bench_ceiling"
}

pg_setting() {
  # Only --cluster: its primary.
  psql -h 127.0.0.1 -p "${PG_PORT:-${SCALE_PG_PORT0:-}}" -U postgres -tAc "SHOW $1" 2>/dev/null || echo "?"
}

# Each run starts empty: without the last run's AOF, which could take longer
# to load than start_redis waits, only to be flushed.
start_bench_redis() {
  REDIS_PORT=$(free_port)
  rm -rf "$STATE/redis"
  start_redis "$STATE/redis" "$REDIS_PORT"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
}

# start_betsdb: the release binary with its defaults, except a quieter log
# (per-request logging would measure the terminal, not the server).
start_betsdb() {
  API_PORT=$(free_port)
  ADMIN_TOKEN="bench-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  local -a extra=()
  [[ -n $SERVER_THREADS ]] && extra+=("--threads=$SERVER_THREADS")
  extra+=("${SERVER_FLAGS[@]}")
  BETSDB_LISTEN="127.0.0.1:$API_PORT" \
  BETSDB_DATABASE_URL="$BENCH_DATABASE_URL" \
  BETSDB_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  BETSDB_ADMIN_TOKEN="$ADMIN_TOKEN" BETSDB_LOG_LEVEL=warn BETSDB_SIGNUP_RATE_LIMIT=0 BETSDB_SIGN_INS_PER_CLIENT=0 \
    "$BINARY" serve "${extra[@]}" >"$LOGS/betsdb.log" 2>&1 &
  BETSDB_PID=$!
  if ! wait_http "http://127.0.0.1:$API_PORT/healthz"; then
    cat "$LOGS/betsdb.log" >&2
    die "betsdb did not start"
  fi
  API="http://127.0.0.1:$API_PORT"
  # The ceiling database gets exactly the server's schema.
  "$BINARY" migrate "--database-url=$CEILING_DATABASE_URL" >>"$LOGS/betsdb.log" 2>&1 \
    || die "could not migrate the ceiling database (see $LOGS/betsdb.log)"
}

stop_betsdb() {
  [[ -n ${BETSDB_PID:-} ]] || return 0
  kill -TERM "$BETSDB_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$BETSDB_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$BETSDB_PID" 2>/dev/null || true
  wait "$BETSDB_PID" 2>/dev/null || true
  BETSDB_PID=""
}

# rss_kb FIELD: VmHWM (peak) or VmRSS of betsdb, in kB.
rss_kb() {
  awk -v f="$1:" '$1 == f {print $2}' "/proc/$BETSDB_PID/status" 2>/dev/null || echo 0
}

# start_nginx FILE: a private nginx serving FILE's directory, tuned like a
# fair static-file ceiling: as many workers as betsdb has threads, no access
# log, unlimited keep-alive requests (wrk never reconnects on betsdb either).
start_nginx() {
  local www=$1
  NGINX_PORT=$(free_port)
  local dir="$STATE/nginx"
  mkdir -p "$dir/logs" "$dir/tmp"
  local workers=${SERVER_THREADS:-$(nproc)}
  cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types { application/json json; }
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $www;
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >"$LOGS/nginx.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null && return 0
    curl -sS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null && return 0
    sleep 0.05
  done
  cat "$LOGS/nginx.log" "$dir/logs/error.log" >&2
  die "nginx did not start"
}

stop_nginx() {
  [[ -n ${NGINX_PID:-} ]] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

stop_all() {
  scale_stop
  [[ -n ${IDLE_PID:-} ]] && kill -TERM "$IDLE_PID" 2>/dev/null
  [[ -n ${STREAM_PID:-} ]] && kill -TERM "$STREAM_PID" 2>/dev/null
  stop_nginx
  use_server single
  stop_betsdb
  stop_cluster_betsdb
  [[ -n ${CLUSTER_DIR:-} ]] && redis_cluster_stop "$CLUSTER_DIR"
  [[ -n ${REDIS_PORT:-} ]] && stop_redis "$REDIS_PORT"
  [[ -n ${PG_PORT:-} ]] && stop_postgres "$STATE/pg"
  return 0
}
