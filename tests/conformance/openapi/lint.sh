#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly CLI's recommended rules (redocly.yaml;
# single false positives, each with its reason, in .redocly.lint-ignore.yaml).
# Any problem, warning or error, fails: the target is a clean lint.
# Usage: lint.sh [--junit FILE]. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)

JUNIT=
while [[ $# -gt 0 ]]; do
  case $1 in
    --junit) JUNIT=$2; shift 2 ;;
    *) echo "usage: $0 [--junit FILE]" >&2; exit 2 ;;
  esac
done

source ./tools.sh
ensure_tools

# Redocly CLI runs on the `node` first in PATH (its own entry point, not npx,
# which Debian ships in a separate package). No telemetry and no update check:
# a lint needs no network. Its stderr (progress lines) is shown only when it
# wrote no report (a crash); the problems themselves come from the JSON report.
report=$(mktemp)
log=$(mktemp)
stderr=$(mktemp)
trap 'rm -f "$report" "$log" "$stderr"' EXIT
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node node_modules/@redocly/cli/bin/cli.js lint "$ROOT/docs/openapi.yaml" --config redocly.yaml \
  --format=json --max-problems 10000 >"$report" 2>"$stderr" || true
status=0
if [[ -s "$report" ]]; then
  node - "$report" >"$log" <<'JS' || status=1
const report = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const { errors, warnings, ignored } = report.totals;
for (const p of report.problems) {
  const where = (p.location && p.location[0] && p.location[0].pointer) || '';
  console.log(`${p.severity} ${p.ruleId} ${where}: ${p.message}`);
}
console.log(`redocly lint: ${errors} errors, ${warnings} warnings, ${ignored} ignored (.redocly.lint-ignore.yaml)`);
process.exit(errors + warnings > 0 ? 1 : 0);
JS
else
  status=1
  { echo "error: redocly wrote no report (node $(node --version)):"; cat "$stderr"; } >"$log"
fi
cat "$log"

if [[ -n "$JUNIT" ]]; then
  mkdir -p "$(dirname "$JUNIT")"
  python3 "$ROOT/scripts/lib/junit_case.py" "$JUNIT" openapi-lint "redocly lint docs/openapi.yaml" "$status" "$log"
fi
if [[ $status -eq 0 ]]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
