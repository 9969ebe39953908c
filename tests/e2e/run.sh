#!/usr/bin/env bash
# Runs the web UI's end-to-end tests in headless Chromium against a running
# betsdb. Needs BETSDB_TEST_BASE_URL and BETSDB_TEST_ADMIN_TOKEN (the tests
# fail, not skip, without them). Screenshots go to tests/e2e/artifacts/,
# JUnit reports to $BETSDB_E2E_JUNIT (default artifacts/junit.xml) and, for
# the live stream's file, beside it with -stream before .xml.
# Ends with "N passed, N failed"; exits non-zero when a test failed.
set -euo pipefail
cd "$(dirname "$0")"

ARTIFACTS=${BETSDB_E2E_ARTIFACTS:-$PWD/artifacts}
JUNIT=${BETSDB_E2E_JUNIT:-$ARTIFACTS/junit.xml}
export BETSDB_E2E_ARTIFACTS=$ARTIFACTS

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "==> installing chromium" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }
  else
    echo "error: /usr/bin/chromium is missing (apt-get install chromium)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi
source ../../scripts/lib/npm_pinned.sh
npm_ci_when_stale playwright-core axe-core

mkdir -p "$ARTIFACTS" "$(dirname "$JUNIT")"
rm -f "$ARTIFACTS"/*.png "$JUNIT"  # only what this script writes: the folder may be shared
STREAM_JUNIT="${JUNIT%.xml}-stream.xml"
rm -f "$STREAM_JUNIT"
status=0
# Two test files at a time, each with its own browser: a file waits on the
# server and on rendering much of the time, so two take about 330 s on two
# cores where one at a time took 430 s. Their data never overlaps (each test
# makes its own users and matches), and their waits allow 10 s an action.
# Except the live stream's file, which runs alone after the others, into a
# report of its own beside $JUNIT: its pages hear every match change on the
# server (the stream is one for all matches), and one of its tests needs a
# page that heard none before its network drops, which a change made
# meanwhile by another file would break.
others=()
for f in ./*.test.mjs; do [[ $f == ./stream.test.mjs ]] || others+=("$f"); done
node --test --test-concurrency=2 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$JUNIT" \
  "${others[@]}" || status=$?
node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$STREAM_JUNIT" \
  ./stream.test.mjs || status=$?

# Node's JUnit reporter copies a failure's message as it is, and Playwright's
# call logs colour theirs: an ESC is not allowed in XML 1.0, so one failed
# test would make the whole report unreadable (and its passes uncounted).
# Colour codes go, and any other control character XML forbids.
node --input-type=module - "$JUNIT" "$STREAM_JUNIT" <<'JS' || status=1
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
for (const file of process.argv.slice(2).filter(existsSync)) {
  const xml = readFileSync(file, 'utf8');
  const clean = xml
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
  if (clean !== xml) writeFileSync(file, clean);
}
JS

# The closing line, counted from the JUnit reports (test cases, not suites).
node --input-type=module - "$JUNIT" "$STREAM_JUNIT" <<'JS' || status=1
import { readFileSync } from 'node:fs';
const xml = process.argv.slice(2).map((f) => readFileSync(f, 'utf8')).join('\n');
const cases = xml.match(/<testcase\b[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
const failed = cases.filter((c) => /<failure\b/.test(c)).length;
const skipped = cases.filter((c) => /<skipped\b/.test(c)).length;
const passed = cases.length - failed - skipped;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(cases.length === 0 || failed > 0 ? 1 : 0);
JS
exit $status
