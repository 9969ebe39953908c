#!/usr/bin/env bash
# Prometheus conformance, judged by promtool (Debian's `prometheus` package):
#   1. `promtool check rules --lint=all --lint-fatal` on deploy/prometheus/*.yml;
#   2. `promtool check config` on deploy/prometheus/prometheus.yml.example;
#   3. `promtool test rules` on tests/conformance/prometheus/*_test.yml (every
#      alert: fires when it should, not on the boundary case beside it);
#   4. /metrics under load: while wrk reads (reads.lua: several routes, an
#      unmatched path) and exercise.py writes (bets, a cart checkout, a
#      cash-out, a suspended-match refusal, 4xx of several kinds), /metrics is
#      scraped once a second; `promtool check metrics` must pass on every
#      scrape with no output at all (no lint finding, not even one a future
#      promtool only warns about), and scrape_invariants.py checks what Prometheus's queries
#      assume across them (counters never go down, histograms cumulative);
#      then, that the load did move the figures the alerts read;
#      meanwhile a real Prometheus server (the package's, on a private port
#      and a temporary TSDB, live_prometheus.py) scrapes /metrics once a
#      second and evaluates betsdb.rules.yml: no sample rejected, no rule
#      evaluation failure, the recording rules have values;
#   5. deploy/prometheus/betsdb-check-textfile.sh: `betsdb check` against the
#      test database, and against an unreachable one (exit 2), each writing a
#      textfile that passes `promtool check metrics` and says the exit status.
#
# Needs a running betsdb: BETSDB_TEST_BASE_URL, BETSDB_TEST_ADMIN_TOKEN (the
# writes create users and matches), BETSDB_TEST_DATABASE_URL (the ledger
# check). The binary for the check: BETSDB_TEST_BINARY, else the server's
# own (/proc/$BETSDB_TEST_SERVER_PID/exe), else build/asan/betsdb.
# Other tests may use the same server meanwhile: everything it creates is new.
# Load is bounded: $PROM_LOAD_SECONDS (default 5) of wrk -t1 -c8 on 127.0.0.1
# plus one writing client. The whole check takes about 15 s.
# The Prometheus server it starts must reach BETSDB_TEST_BASE_URL (a server
# on this machine, as in scripts/test).
#
# Usage: check.sh [--junit FILE]
# Ends with "N passed, N failed"; exits non-zero when anything failed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../../scripts/lib/common.sh"  # sets BETSDB_ROOT; ensure_packages
cd "$BETSDB_ROOT"

JUNIT=""
while (($#)); do
  case $1 in
    --junit) JUNIT=${2:?--junit needs a file}; shift 2 ;;
    --junit=*) JUNIT=${1#--junit=}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (use --junit FILE)" >&2; exit 2 ;;
  esac
done
LOAD_SECONDS=${PROM_LOAD_SECONDS:-5}
((LOAD_SECONDS >= 3)) || { echo "PROM_LOAD_SECONDS must be at least 3 (3 scrapes under load)" >&2; exit 2; }

missing_env=()
for v in BETSDB_TEST_BASE_URL BETSDB_TEST_ADMIN_TOKEN BETSDB_TEST_DATABASE_URL; do
  [[ -n ${!v:-} ]] || missing_env+=("$v")
done
if ((${#missing_env[@]})); then
  # Fail, never skip: a CI stage without a server is a broken stage.
  echo "error: set ${missing_env[*]} (a running betsdb; scripts/test does this)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
BASE_URL=${BETSDB_TEST_BASE_URL%/}

# promtool comes with Debian's prometheus package, wrk with wrk. On a systemd
# host, installing prometheus also starts (and enables) a Prometheus server
# on :9090 that this check does not need: stop the one it started, and only
# that one (a developer's own server stays).
had_prometheus=0
dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q "install ok installed" && had_prometheus=1
ensure_packages prometheus wrk
if ((!had_prometheus)) && command -v systemctl >/dev/null \
    && systemctl is-active --quiet prometheus 2>/dev/null; then
  log "stopping the Prometheus server the package started (only promtool is needed)"
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

BINARY=${BETSDB_TEST_BINARY:-}
if [[ -z $BINARY && -n ${BETSDB_TEST_SERVER_PID:-} && -r /proc/$BETSDB_TEST_SERVER_PID/exe ]]; then
  BINARY=/proc/$BETSDB_TEST_SERVER_PID/exe
fi
BINARY=${BINARY:-$BETSDB_ROOT/build/asan/betsdb}

WORK=$(mktemp -d)
load_pids=() prometheus_pid=""
cleanup() {
  # Only what this script started, by its own process ids.
  for pid in "${load_pids[@]}" $prometheus_pid; do kill "$pid" 2>/dev/null || true; done
  if [[ -n $prometheus_pid ]]; then wait "$prometheus_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Each case: a line "name<TAB>status<TAB>log" in $WORK/cases (0 = passed).
passed=0 failed=0
record() {  # record NAME STATUS LOG
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$WORK/cases"
  if [[ $2 == 0 ]]; then
    passed=$((passed + 1)); echo "ok    $1"
  else
    failed=$((failed + 1)); echo "FAIL  $1"; sed 's/^/      /' "$3" | tail -30
  fi
}
# run_case NAME COMMAND...: a case that passes when COMMAND exits 0.
run_case() {
  local name=$1; shift
  local log
  log="$WORK/case-$(( $(wc -l < "$WORK/cases" 2>/dev/null || echo 0) + 1 )).log"
  local status=0
  "$@" > "$log" 2>&1 || status=$?
  record "$name" "$status" "$log"
}
: > "$WORK/cases"

# promtool check metrics (2.42) exits 3 on lint findings and 1 on a parse
# error; a clean document is exit 0 *and* no output, so a finding that some
# promtool only prints still fails.
promtool_metrics_clean() {  # FILE
  local out
  out=$(promtool check metrics < "$1" 2>&1) || { echo "$out"; return 1; }
  [[ -z $out ]] || { echo "$out"; return 1; }
  [[ -s $1 ]] || { echo "empty scrape"; return 1; }
}

# value FILE SERIES: a sample's value as betsdb writes it (no spaces inside
# the series), or 0 when absent.
value() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$1"; }
grew() {  # grew BEFORE AFTER SERIES
  local a b
  a=$(value "$1" "$3") b=$(value "$2" "$3")
  if awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a) }'; then
    echo "$3: $a -> $b"
  else
    echo "$3 did not grow under load: $a -> $b"; return 1
  fi
}

# ------------------------------------------------- a real Prometheus
# The real Prometheus, started first: its discovery hands it the target
# only after ~5 s, which the promtool checks below partly cover. It scrapes
# and evaluates every second, so a few-second load gives its 2-minute rates
# several samples.
target=${BASE_URL#*://}
target=${target%%/*}
prom_port=$(free_port)
cat > "$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $BETSDB_ROOT/deploy/prometheus/betsdb.rules.yml
scrape_configs:
  - job_name: betsdb
    scheme: ${BASE_URL%%://*}
    static_configs:
      - targets: ["$target"]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$WORK/prometheus.log" 2>&1 &
prometheus_pid=$!
PROM_URL="http://127.0.0.1:$prom_port"
# Bounded waits: live_prometheus.py fails the case if it never scraped.
prometheus_scraped() {
  curl -sf "$PROM_URL/api/v1/query" --data-urlencode 'query=up{job="betsdb"}' 2>/dev/null \
    | grep -q '"result":\[{'
}

# ---------------------------------------------------------------- 1-3 rules
run_case "promtool check rules deploy/prometheus/*.yml" \
  promtool check rules --lint=all --lint-fatal deploy/prometheus/*.yml
run_case "promtool check config deploy/prometheus/prometheus.yml.example" \
  promtool check config deploy/prometheus/prometheus.yml.example
run_case "promtool test rules tests/conformance/prometheus/*_test.yml" \
  promtool test rules tests/conformance/prometheus/*_test.yml

# ------------------------------------------------------------ 4 under load
mkdir -p "$WORK/scrapes"
if ! curl -sf -m 5 -o "$WORK/scrapes/00-before.txt" "$BASE_URL/metrics"; then
  echo "betsdb at $BASE_URL does not answer GET /metrics" > "$WORK/unreachable.log"
  record "GET /metrics answers" 1 "$WORK/unreachable.log"
else
  # Load only once Prometheus scrapes, so that its scrapes span the load.
  for _ in $(seq 100); do prometheus_scraped && break; sleep 0.1; done
  PROM_READ_PATHS="/v1/matches /v1/matches/1 /v1/bets/summary /healthz /readyz /v1/no-such-route" \
    wrk -t1 -c8 -d"${LOAD_SECONDS}s" -s "$HERE/reads.lua" "$BASE_URL" > "$WORK/wrk.log" 2>&1 &
  wrk_pid=$!
  load_pids+=("$wrk_pid")
  /usr/bin/python3 "$HERE/exercise.py" "$BASE_URL" "$BETSDB_TEST_ADMIN_TOKEN" "$LOAD_SECONDS" \
    > "$WORK/exercise.log" 2>&1 &
  exercise_pid=$!
  load_pids+=("$exercise_pid")
  # A scrape a second while wrk runs (at most LOAD_SECONDS + 3 of them).
  n=0
  while kill -0 "$wrk_pid" 2>/dev/null && ((n < LOAD_SECONDS + 3)); do
    sleep 1
    n=$((n + 1))
    curl -sf -m 5 -o "$WORK/scrapes/$(printf %02d "$n")-load.txt" "$BASE_URL/metrics" || true
  done
  wrk_status=0 exercise_status=0
  wait "$wrk_pid" || wrk_status=$?
  wait "$exercise_pid" || exercise_status=$?
  load_pids=()
  curl -sf -m 5 -o "$WORK/scrapes/99-after.txt" "$BASE_URL/metrics" || true

  # wrk exits 0 even when every request failed to connect: want requests.
  if ((wrk_status == 0)) && grep -qE '^ +[0-9]+ requests in' "$WORK/wrk.log"; then
    record "load: wrk reads (${LOAD_SECONDS}s, -t1 -c8)" 0 "$WORK/wrk.log"
  else
    record "load: wrk reads (${LOAD_SECONDS}s, -t1 -c8)" 1 "$WORK/wrk.log"
  fi
  record "load: writes (exercise.py)" "$exercise_status" "$WORK/exercise.log"

  scrapes=("$WORK"/scrapes/*.txt)
  during=("$WORK"/scrapes/*-load.txt)
  if ((${#during[@]} >= 3)) && [[ -e ${during[0]} ]]; then
    echo "${#during[@]} scrapes during the load" > "$WORK/count.log"
    record "scraped /metrics during the load (>= 3 times)" 0 "$WORK/count.log"
  else
    echo "only ${#during[@]} scrape(s) during the load" > "$WORK/count.log"
    record "scraped /metrics during the load (>= 3 times)" 1 "$WORK/count.log"
  fi
  for f in "${scrapes[@]}"; do
    [[ -e $f ]] || continue
    run_case "promtool check metrics: /metrics $(basename "$f" .txt)" promtool_metrics_clean "$f"
  done
  run_case "scrape invariants (counters never go down, histograms cumulative)" \
    /usr/bin/python3 "$HERE/scrape_invariants.py" "${scrapes[@]}"

  before="$WORK/scrapes/00-before.txt" after="$WORK/scrapes/99-after.txt"
  moved() {
    [[ -s $after ]] || { echo "no scrape after the load"; return 1; }
    local status=0
    for series in \
        'betsdb_bets_placed_total' \
        'betsdb_checkouts_total{outcome="success"}' \
        'betsdb_cash_outs_total' \
        'betsdb_settlements_total' \
        'betsdb_bet_rejections_total{reason="match_suspended"}' \
        'betsdb_http_request_duration_seconds_count{route="/v1/matches",method="GET"}' \
        'betsdb_http_requests_total{route="/v1/bets",method="POST",status="409"}' \
        'betsdb_http_requests_total{route="unmatched",method="GET",status="404"}' \
        'betsdb_redis_commands_total'; do
      grew "$before" "$after" "$series" || status=1
    done
    return $status
  }
  run_case "the load moved the figures the alerts and dashboards read" moved

  # A renamed metric leaves its alert silently empty: every betsdb_* series
  # the rules read or name (expressions and annotations; not the recording
  # rules' own level:name:operation names) must be in /metrics.
  # betsdb_check_* come from the textfile, checked in 5.
  rules_read_what_exists() {
    [[ -s $after ]] || { echo "no scrape after the load"; return 1; }
    local name status=0
    for name in $(grep -ohP '(?<![\w:])betsdb_[a-z0-9_]+(?![\w:*])' deploy/prometheus/*.yml \
                    | grep -v '^betsdb_check_' | sort -u); do
      if grep -qE "^$name(\{| )" "$after"; then
        echo "in /metrics: $name"
      else
        echo "MISSING from /metrics: $name"; status=1
      fi
    done
    return $status
  }
  run_case "every betsdb_* metric the rules read is in /metrics" rules_read_what_exists

  run_case "a real Prometheus scraped /metrics under load: every sample ingested" \
    /usr/bin/python3 "$HERE/live_prometheus.py" "$PROM_URL" scrape
  run_case "a real Prometheus evaluated betsdb.rules.yml on the live series: no failure" \
    /usr/bin/python3 "$HERE/live_prometheus.py" "$PROM_URL" rules
  kill "$prometheus_pid" 2>/dev/null || true
  wait "$prometheus_pid" 2>/dev/null || true
  prometheus_pid=""
  # Warnings it logged about scraping or rules (ingestion errors, failed
  # evaluations) fail the check too; its start-up and shutdown chatter is info.
  prom_warnings() {
    if grep -E 'level=(warn|error)' "$WORK/prometheus.log" | grep -iE 'scrape|rule|ingest'; then
      return 1
    fi
    echo "no scrape or rule warning in the Prometheus log"
  }
  run_case "the Prometheus log has no scrape or rule warning" prom_warnings
fi

# --------------------------------------------------- 5 the ledger textfile
mkdir -p "$WORK/textfile"
textfile_case() {  # textfile_case DATABASE_URL ALLOWED_STATUSES...
  local url=$1; shift
  local out="$WORK/textfile/betsdb_check.prom" status=0
  rm -f "$out"
  BETSDB_DATABASE_URL=$url deploy/prometheus/betsdb-check-textfile.sh "$out" "$BINARY" || status=$?
  echo "betsdb check exited $status"
  [[ " $* " == *" $status "* ]] || { echo "expected one of: $*"; return 1; }
  cat "$out" || return 1
  promtool_metrics_clean "$out" || return 1
  local recorded
  recorded=$(value "$out" betsdb_check_last_exit_code)
  [[ $recorded == "$status" ]] || { echo "textfile says exit code $recorded"; return 1; }
  awk '$1 == "betsdb_check_last_run_timestamp_seconds" { ok = ($2 > 1e9) } END { exit !ok }' "$out" \
    || { echo "no plausible betsdb_check_last_run_timestamp_seconds"; return 1; }
  if compgen -G "$WORK/textfile/betsdb_check.prom.*" >/dev/null; then
    echo "temporary file left behind"; return 1
  fi
}
if [[ -x $BINARY ]]; then
  # The test database may hold what other tests made inconsistent on purpose
  # (test_cli.py): 0 or 1 are both a completed check.
  run_case "betsdb-check-textfile.sh: a completed check (exit 0 or 1)" \
    textfile_case "$BETSDB_TEST_DATABASE_URL" 0 1
  run_case "betsdb-check-textfile.sh: an unreachable database (exit 2)" \
    textfile_case "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2" 2
else
  echo "no betsdb binary at $BINARY (set BETSDB_TEST_BINARY)" > "$WORK/binary.log"
  record "betsdb-check-textfile.sh: a betsdb binary" 1 "$WORK/binary.log"
fi

# ------------------------------------------------------------------ report
if [[ -n $JUNIT ]]; then
  mkdir -p "$(dirname "$JUNIT")"
  /usr/bin/python3 - "$WORK/cases" "$JUNIT" <<'PY'
import sys
from xml.sax.saxutils import escape, quoteattr
cases_file, out = sys.argv[1:3]
rows = [line.rstrip("\n").split("\t") for line in open(cases_file) if line.strip()]
failures = sum(1 for _, status, _ in rows if status != "0")
parts = [f'<?xml version="1.0"?>\n<testsuite name="prometheus-conformance" tests="{len(rows)}" failures="{failures}">']
for name, status, log in rows:
    try:
        text = open(log, errors="replace").read()[-4000:]
    except OSError:
        text = "(no log)"
    body = f'<failure message="failed">{escape(text)}</failure>' if status != "0" else f"<system-out>{escape(text)}</system-out>"
    parts.append(f'<testcase classname="prometheus-conformance" name={quoteattr(name)}>{body}</testcase>')
parts.append("</testsuite>\n")
open(out, "w").write("\n".join(parts))
PY
fi
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
