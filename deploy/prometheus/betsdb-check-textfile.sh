#!/usr/bin/env bash
# Runs `betsdb check` (the ledger invariant and the other audits, over the
# whole database) and writes its outcome where the Prometheus node exporter's
# textfile collector reads it, for the BetsdbLedgerCheck* alerts of
# betsdb.rules.yml:
#
#   betsdb_check_last_run_timestamp_seconds  when the last run ended
#   betsdb_check_last_exit_code              its exit status: 0 consistent,
#                                            1 inconsistencies found, 2 could
#                                            not run (anything else: killed,
#                                            crashed)
#   betsdb_check_last_duration_seconds       how long it took
#
# Usage: betsdb-check-textfile.sh OUT.prom [BETSDB_BINARY]
#   OUT.prom       e.g. /var/lib/prometheus/node-exporter/betsdb_check.prom
#                  (Debian's prometheus-node-exporter reads that directory)
#   BETSDB_BINARY  default: betsdb on the PATH
# The check reads BETSDB_DATABASE_URL like the server (`betsdb check --help`).
# Its report (each user, bet and match at fault) goes to stdout, so the
# journal of the unit that runs this keeps it; the metrics say only whether
# to look. Exits with the check's status, so the unit fails when it does.
#
# Why a wrapper and not a metric of the server: the check scans every
# ledger row and bet (minutes on a big book), which a scrape must not do,
# and its exit status is its documented interface.
set -euo pipefail

if (($# < 1 || $# > 2)); then
  echo "usage: $0 OUT.prom [BETSDB_BINARY]" >&2
  exit 2
fi
out=$1
betsdb=${2:-betsdb}

started=$(date +%s.%N)
status=0
"$betsdb" check || status=$?
ended=$(date +%s.%N)

# The collector may read at any moment: write a temporary file in the same
# directory and rename it over the old one (atomic), never a half-written one.
# Its name does not end in .prom, so the collector never reads it.
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" <<EOF
# HELP betsdb_check_last_run_timestamp_seconds When the last betsdb check ended (Unix time).
# TYPE betsdb_check_last_run_timestamp_seconds gauge
betsdb_check_last_run_timestamp_seconds $ended
# HELP betsdb_check_last_exit_code Exit status of the last betsdb check: 0 consistent, 1 inconsistencies found, 2 could not run.
# TYPE betsdb_check_last_exit_code gauge
betsdb_check_last_exit_code $status
# HELP betsdb_check_last_duration_seconds How long the last betsdb check took.
# TYPE betsdb_check_last_duration_seconds gauge
betsdb_check_last_duration_seconds $(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f", b - a }')
EOF
chmod 0644 "$tmp"  # mktemp makes it 0600; the exporter runs as its own user
mv -f "$tmp" "$out"
trap - EXIT
exit "$status"
