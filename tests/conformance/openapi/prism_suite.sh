#!/usr/bin/env bash
# Runs the black-box API suite (tests/api) through a validating proxy that
# checks every request and every response against docs/openapi.yaml with
# Stoplight Prism's router and validators (prism_proxy.cjs: why not the
# `prism proxy` command itself is explained there and in README.md), then
# judges Prism's verdicts (prism_report.py):
#   - any response violation fails, for good and bad requests alike;
#   - a request violation passes only if betsdb refused the request too (4xx):
#     the suite sends invalid input on purpose;
#   - known_violations.yaml lists the exceptions, each with its reason.
# Tests marked `direct` (raw HTTP bytes, hop-by-hop headers, socket
# backpressure: a proxy would change what they test) run afterwards against
# the server itself, so the whole suite runs once.
#
# Needs the environment the API suite reads (BETSDB_TEST_BASE_URL, ...: see
# tests/api/conftest.py; `source /work/dev/env.sh` or scripts/test's api_env).
# Usage: prism_suite.sh [--junit FILE] [--log FILE] [-- PYTEST_ARGS...]
#   --junit FILE  one JUnit report: both pytest runs and the conformance verdict
#   --log FILE    keep Prism's verdicts (JSON lines; default: a temp file)
# Ends with "N passed, N failed" (pytest cases + 1 for the conformance
# verdict); exits non-zero on any pytest failure or violation.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}

JUNIT= LOG= PYTEST_ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --junit) JUNIT=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    --) shift; PYTEST_ARGS=("$@"); break ;;
    *) echo "usage: $0 [--junit FILE] [--log FILE] [-- PYTEST_ARGS...]" >&2; exit 2 ;;
  esac
done
: "${BETSDB_TEST_BASE_URL:?set the API suite environment first (source /work/dev/env.sh)}"
DIRECT_URL=${BETSDB_TEST_BASE_URL%/}

(cd "$HERE" && source ./tools.sh && ensure_tools)

WORK=$(mktemp -d)
proxy_pid=
cleanup() {
  if [[ -n "$proxy_pid" ]] && kill -0 "$proxy_pid" 2>/dev/null; then
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
LOG=${LOG:-$WORK/prism.jsonl}
: >"$LOG"
[[ -n "$JUNIT" ]] || JUNIT=$WORK/junit.xml
mkdir -p "$(dirname "$JUNIT")" "$(dirname "$LOG")"

# The proxy runs on the `node` first in PATH (Debian 12's 18.20.4 or 20+).
# A free port on 127.0.0.1, chosen by the kernel (a tiny race with other
# listeners is possible; the proxy then fails to start and we say so).
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
node "$HERE/prism_proxy.cjs" "$ROOT/docs/openapi.yaml" "$DIRECT_URL" "$port" "$LOG" "$WORK/nodeid" \
  >"$WORK/proxy.out" 2>&1 &
proxy_pid=$!
# Prism reads and resolves the spec first: a few seconds, bounded.
for _ in $(seq 1 100); do
  grep -q '^listening' "$WORK/proxy.out" 2>/dev/null && break
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q '^listening' "$WORK/proxy.out"; then
  echo "error: the validating proxy did not start:" >&2
  cat "$WORK/proxy.out" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "==> API suite through Prism (http://127.0.0.1:$port -> $DIRECT_URL; node $(node --version))"

cd "$ROOT"
status=0
started=$SECONDS
BETSDB_TEST_BASE_URL="http://127.0.0.1:$port" BETSDB_TEST_NODEID_FILE="$WORK/nodeid" \
  "$PYTHON" -m pytest -q -p no:cacheprovider tests/api -m "not direct" \
  -o junit_suite_name=api-through-prism --junitxml "$WORK/pytest-proxy.xml" "${PYTEST_ARGS[@]}" || status=1
echo "through Prism: $((SECONDS - started)) s"

# Stop the proxy (it flushes its last verdicts on SIGTERM) before judging.
kill "$proxy_pid"
wait "$proxy_pid" 2>/dev/null || true
proxy_pid=

echo "==> tests marked direct, against $DIRECT_URL"
started=$SECONDS
rc=0
"$PYTHON" -m pytest -q -p no:cacheprovider tests/api -m direct \
  -o junit_suite_name=api-direct --junitxml "$WORK/pytest-direct.xml" "${PYTEST_ARGS[@]}" || rc=$?
# 5: no test selected (PYTEST_ARGS chose none of the direct ones), not a failure.
[[ $rc -eq 0 || $rc -eq 5 ]] || status=1
echo "direct: $((SECONDS - started)) s"

echo "==> Prism's verdicts"
"$PYTHON" "$HERE/prism_report.py" "$LOG" "$HERE/known_violations.yaml" "$JUNIT" \
  "$WORK/pytest-proxy.xml" "$WORK/pytest-direct.xml" || status=1
exit $status
