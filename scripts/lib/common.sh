# Shared helpers for scripts/run, scripts/test and bench/: packages, build,
# private PostgreSQL and Redis servers. Sourced, not executed.
# shellcheck shell=bash

BETSDB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin

# Debian 12 packages the build, the servers and the tests need.
BETSDB_PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates curl procps
  libboost1.81-dev libhiredis-dev libpq-dev libssl-dev libspdlog-dev libsodium-dev libjemalloc-dev
  libgtest-dev libgmock-dev
  redis-server postgresql-15 postgresql-client-15
  python3 python3-pytest python3-requests python3-psycopg2 python3-redis
)
# scripts/package needs these to make the .deb: dpkg-shlibdeps computes its
# dependencies (CPack runs `file` first), help2man writes its man page.
BETSDB_PACKAGE_TOOLS=(dpkg-dev file help2man)
# Only the test command needs these: the OpenAPI checks, the browser tests,
# the fuzzer (clang, and libFuzzer's runtime, which clang only recommends),
# the topology stage (HAProxy), the package's checks (lintian,
# systemd-analyze), promtool (prometheus) and the benchmark harness's smoke
# run (wrk, nginx, gnuplot, installed here rather than in the middle of the run).
BETSDB_TEST_PACKAGES=(
  python3-yaml python3-jsonschema chromium clang libclang-rt-14-dev clang-format haproxy
  "${BETSDB_PACKAGE_TOOLS[@]}" lintian systemd prometheus wrk nginx-light gnuplot-nox redis-tools
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts and enables the packaged services on install (nginx on
    # *:80, prometheus on *:9090); ours run privately, on loopback.
    for svc in redis-server postgresql haproxy prometheus nginx; do
      if command -v systemctl >/dev/null && systemctl is-enabled --quiet "$svc" 2>/dev/null; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
      elif command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
      fi
    done
  fi
}

# build PRESET [TARGET...]: configure (quick when nothing changed), then an
# incremental build of the targets (default: everything).
build() {
  local preset=$1; shift
  local jobs; jobs=$(nproc)
  log "configuring ($preset)"
  cmake --preset "$preset" -S "$BETSDB_ROOT" >/dev/null
  log "building ($preset${*:+: $*})"
  cmake --build "$BETSDB_ROOT/build/$preset" -j "$jobs" ${*:+--target "$@"}
}

# kill_descendants PID [SIGNAL]: sends SIGNAL (TERM) to every process below
# PID, deepest first, PID itself left alone. A killed shell script leaves its
# children running, and cmake --build outlives a TERM while its compilers run.
kill_descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    kill_descendants "$child" "${2:-TERM}"
    kill -"${2:-TERM}" "$child" 2>/dev/null || true
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A directory the postgres user can reach: inside the project when its path
# is traversable by others, else under /var/tmp (e.g. a clone in /root).
pg_home_for() {
  local want=$1
  mkdir -p "$want"
  if runuser -u postgres -- test -x "$want" 2>/dev/null; then
    echo "$want"
  else
    local alt; alt="/var/tmp/betsdb-$(echo "$want" | md5sum | cut -c1-12)"
    mkdir -p "$alt"
    echo "$alt"
  fi
}

# start_postgres DIR PORT [fast]: initdb on first use, then start. Prints nothing.
start_postgres() {
  local dir=$1 port=$2 mode=${3:-}
  dir=$(pg_home_for "$dir")
  chown postgres "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200"
  # Tests need no durability across power loss; this makes them faster.
  [[ $mode == fast ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
  echo "$dir" > "$dir/.home"
  PG_DIR_RESOLVED=$dir
}

stop_postgres() {
  local dir=$1
  dir=$(pg_home_for "$dir")
  [[ -f "$dir/data/postmaster.pid" ]] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

create_database() {
  local port=$1 name=$2
  psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $name" >/dev/null
}

# start_redis DIR PORT: a private Redis whose data (carts are the users' own)
# survives a restart: an append-only file in DIR, fsynced every second
# (docs/operations.md, "Redis"). No RDB snapshots: the AOF is enough.
start_redis() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' \
    --appendonly yes --appendfsync everysec >/dev/null
  # PONG, not redis-cli's exit code: it is 0 for the LOADING error that
  # Redis answers while it reads the AOF back.
  for _ in $(seq 200); do
    [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.05
  done
  die "Redis did not start (see $dir/redis.log)"
}

# NOSAVE skips only an RDB snapshot (none is configured); Redis still writes
# and fsyncs the AOF before it exits, so nothing acknowledged is lost.
stop_redis() {
  local port=$1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}

# wait_http URL: until it answers 200 (server start-up), bounded.
wait_http() {
  local url=$1
  for _ in $(seq 200); do
    curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
