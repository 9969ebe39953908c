# search (issue 23, ../shared/API.md "Discovery": `q` "stays fast with
# 100,000 matches"): GET /v1/matches?q=TERM, a case-insensitive substring of
# either team or of the competition, answered by its own prepared statement
# over matches.search_text and its pg_trgm GIN index
# (src/store/pg/match_store.cpp, search_matches_asc/_desc) and cached like
# every match list.
#
# seed_search brings the database to SEARCH_MATCHES matches in SQL
# (bench/sql/search_seed.sql: realistic names, 9 in 10 with a competition,
# dates over the next year; idempotent) and writes the term list: every
# distinct 2 .. 8-character substring of the seeded names, in a fixed
# shuffled order. Then, per round:
#   search       q=TERM&limit=20, each request the next term of the list, so
#                no key repeats before the list is walked: cache misses,
#                answered by PostgreSQL (betsdb's cache counters are scraped
#                before and after each run to show it);
#   search_open  the same with status=open&sort=-date (the other statement);
#   search_hit   q over SEARCH_HIT_TERMS terms only (3 .. 6 letters), warmed
#                first: cache hits, as `matches` is;
#   pgbench      the ceiling of the misses: search_matches_asc itself, run by
#                pgbench on the same PostgreSQL with the same terms in the
#                same order (bench/search_sql.py pgbench).
# After the rounds: SEARCH_PROBES sequential misses (curl; each a new key
# through a different `to` far in the future, which every match passes) of
# each term EXPLAIN looks at, and EXPLAIN (ANALYZE, BUFFERS) of the search
# statement for those terms (bench/search_sql.py explain), written to the
# results directory as search-explain.txt.
#
# It runs after the other API scenarios: its matches would otherwise change
# what they read. Sourced by bench/run after scenarios.sh.
# shellcheck shell=bash

SEARCH_MATCHES=100000 SEARCH_HIT_TERMS=20 SEARCH_PROBES=10
SEARCH_SEEDED=0 SEARCH_NEXT=0

search_psql() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@" betsdb_bench
}

seed_search() {
  ((SEARCH_SEEDED)) && return 0
  SEARCH_SEEDED=1
  log "search: seeding the database up to $SEARCH_MATCHES matches in SQL"
  local t0=$SECONDS out="$LOGS/search-seed.log"
  search_psql -q -v ON_ERROR_STOP=1 -v matches="$SEARCH_MATCHES" -f "$BENCH_DIR/sql/search_seed.sql" >"$out" 2>&1 \
    || { cat "$out" >&2; harness_failed "seeding the search matches"; }
  local secs=$((SECONDS - t0))
  search_psql -tAc "COPY (SELECT term FROM bench_search.terms ORDER BY n) TO STDOUT" >"$DATA/search_terms.txt" \
    || harness_failed "reading the search terms"
  # The hit phase's terms: the list's last ones of 3 .. 6 letters, what a
  # bettor types (the miss phases, walking from the start, reach them last).
  grep -E '^[a-z]{3,6}$' "$DATA/search_terms.txt" | tail -n "$SEARCH_HIT_TERMS" >"$DATA/search_hit_terms.txt"
  [[ -s $DATA/search_terms.txt && -s $DATA/search_hit_terms.txt ]] || harness_failed "no search terms"
  record "$(python3 - "$out" "$secs" <<'PY'
import json, sys
v = {}
for line in open(sys.argv[1]):
    key, _, rest = line.strip().partition(" ")
    if key:
        v[key] = rest
def num(key):
    try:
        return int(v[key])
    except (KeyError, ValueError):
        return None
three = (v.get("three_letter_hits_about") or "").split()
picks = {}
for label in ("common3", "rare3", "common2", "rare"):
    parts = (v.get("explain_" + label) or "").split()
    if len(parts) == 2:
        picks[label] = {"term": parts[0], "matches": int(parts[1])}
print(json.dumps({
    "kind": "search_seed", "seed_seconds": int(sys.argv[2]),
    "seeded_before": num("seeded_before"), "matches_total": num("matches_total"),
    "search_matches": num("search_matches"), "with_competition": num("with_competition"),
    "open_matches": num("open_matches"), "home_teams": num("home_teams"),
    "competitions": num("competitions"), "terms": num("terms"),
    "terms_by_length": v.get("terms_by_length"),
    "three_letter_hits_about": dict(zip(["terms", "min", "median", "max"], map(int, three))) if len(three) == 4 else None,
    "index_mb": float(v["index_mb"]) if v.get("index_mb") else None,
    "table_mb": float(v["table_mb"]) if v.get("table_mb") else None,
    "picks": picks}))
PY
)"
  log "search: $(sed -n 's/^matches_total //p' "$out") matches in the table, $(wc -l <"$DATA/search_terms.txt") terms (seeded in $secs s)"
}

# search_cache_events: betsdb's read-cache counters of the match lists, as JSON.
search_cache_events() {
  curl -fsS -m 5 "$API/metrics" | python3 -c '
import json, re, sys
out = {}
for line in sys.stdin:
    m = re.match(r"betsdb_cache_events_total\{([^}]*)\} (\S+)", line)
    if m:
        labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(1)))
        if labels.get("namespace") == "matches:list":
            out[labels["event"]] = float(m.group(2))
print(json.dumps(out))' 2>/dev/null || echo '{}'
}

# search_run NAME ROUND TERMS [VAR=VALUE ...]: run_wrk with the cache
# counters around it (recorded for numeric rounds).
search_run() {
  local name=$1 round=$2 terms=$3
  shift 3
  local c0 c1
  c0=$(search_cache_events)
  run_wrk "$name" "$round" "$API/v1/matches?q=ab&limit=20" search.lua BENCH_TERMS="$terms" "$@" || return 1
  c1=$(search_cache_events)
  [[ $round =~ ^[0-9]+$ ]] || return 0
  record "{\"kind\":\"search_cache\",\"scenario\":\"$name$SUFFIX\",\"round\":$round,\"before\":$c0,\"after\":$c1}"
}

# search_ceiling ROUND: pgbench running the search statement, q alone, over
# the same term list (its own walk; -c/-j/-T as wrk's -c/-t/-d).
search_ceiling() {
  local r=$1
  local dir="$LOGS/pgbench-search-$r" terms
  mkdir -p "$dir"
  terms=$(wc -l <"$DATA/search_terms.txt")
  local cpu0 cpu1 client_cpu result
  cpu0=$(cpu_snapshot)
  times >"$LOGS/times-search-before.txt"
  "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
    -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" \
    -D n=0 -D start="${SEARCH_PGBENCH_NEXT:-0}" -D clients="$CONNECTIONS" -D terms="$terms" \
    -f "$STATE/search_pgbench.sql" -l --log-prefix="$dir/txn" betsdb_bench \
    >"$dir/out.txt" 2>&1 || true  # an aborted run is reported by collect.py
  times >"$LOGS/times-search-after.txt"
  cpu1=$(cpu_snapshot)
  client_cpu=$(python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))' \
    "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-search-before.txt")" \
    "$(python3 "$BENCH_DIR/collect.py" times "$LOGS/times-search-after.txt")")
  result=$(python3 "$BENCH_DIR/collect.py" pgbench "$dir" "${SEARCH_PGBENCH_NEXT:-0}" "$CONNECTIONS" 0 0) \
    || harness_failed "reading pgbench output ($dir)"
  record "{\"kind\":\"pgbench\",\"name\":\"search\",\"round\":$r,\"result\":$result,\"cpu_before\":$cpu0,\"cpu_after\":$cpu1,\"wrk_cpu_s\":$client_cpu}"
  SEARCH_PGBENCH_NEXT=$(json_get "$result" next)
  if grep -q '"aborted": true' <<<"$result"; then
    warn "pgbench search round $r aborted: $(grep -m1 -i error "$dir/out.txt")"
  fi
  printf '    %-14s round %s: %8.0f tps    p50 %6.2f ms  p99 %6.2f ms\n' "pgbench_search" "$r" \
    "$(json_get "$result" tps)" "$(json_get "$result" latency_ms.p50)" "$(json_get "$result" latency_ms.p99)" >&2
  rm -f "$dir"/txn.*
}

# search_probes: SEARCH_PROBES sequential requests of each term EXPLAIN
# looks at, every one a miss (a new `to` each time), end to end through HTTP.
search_probes() {
  local label term n
  while read -r label term; do
    local out="$LOGS/search-probe-$label$SUFFIX.txt"
    : >"$out"
    for n in $(seq "$SEARCH_PROBES"); do
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
        "$API/v1/matches?q=$term&limit=20&to=2100-01-01T00:00:00.$(printf '%06d' $((n + ${SEARCH_PROBE_NEXT:-0})))Z" >>"$out"
    done
    record "{\"kind\":\"search_probe\",\"scenario\":\"search$SUFFIX\",\"label\":\"$label\",\"term\":\"$term\",\"result\":$(python3 "$BENCH_DIR/collect.py" summary-miss "$out")}"
  done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "search_seed":
        for label, p in r["picks"].items():
            print(label, p["term"])' "$RAW")
  SEARCH_PROBE_NEXT=$((${SEARCH_PROBE_NEXT:-0} + SEARCH_PROBES))
}

# search_explain: EXPLAIN (ANALYZE, BUFFERS) of the search statements for
# the picked terms, as a server connection would run them (see
# bench/search_sql.py), kept as search-explain.txt beside the results.
search_explain() {
  local -a picks
  mapfile -t picks < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "search_seed":
        for label, p in r["picks"].items():
            print(label + "=" + p["term"])' "$RAW")
  ((${#picks[@]})) || { warn "search: no terms picked for EXPLAIN"; return 0; }
  local script="$STATE/search_explain.sql" out="$RES/search-explain.txt"
  python3 "$BENCH_DIR/search_sql.py" explain --terms "$DATA/search_terms.txt" "${picks[@]}" >"$script" \
    || harness_failed "writing the search EXPLAIN script"
  {
    echo "-- EXPLAIN (ANALYZE, BUFFERS) of the search statements (bench/run, scenario search),"
    echo "-- generated by bench/search_sql.py explain from src/store/pg/match_store.cpp."
    echo "-- Matches in the table: $(sed -n 's/^matches_total //p' "$LOGS/search-seed.log")."
    echo "-- The terms, with the number of matches each finds:"
    sed -n 's/^explain_/--   /p' "$LOGS/search-seed.log"
    echo
    search_psql -v ON_ERROR_STOP=1 -f "$script" 2>&1
  } >"$out" || { cat "$out" >&2; harness_failed "EXPLAIN of the search statements"; }
  record "{\"kind\":\"search_explain\",\"file\":\"search-explain.txt\",\"runs\":$(python3 "$BENCH_DIR/search_sql.py" summarize "$out")}"
}

# search_wrapped NAME REQUESTS TERMS: each phase has keys of its own, so
# only a phase walking past the list's end repeats one (then a cache hit).
search_wrapped() {
  if (($2 > $3)); then
    note "$1$SUFFIX" "the runs made $2 requests over $3 terms: past the list's end the keys repeat (cache hits; see the cache counters)"
  fi
}

scenario_search() {
  # A server without `q` refuses it as an unknown parameter (400).
  if ! route_available GET "/v1/matches?q=ab&limit=1" "" || [[ $PROBE_STATUS != 200 ]]; then
    not_available search "GET /v1/matches?q="
    return 0
  fi
  seed_search
  # The match lists cached before the SQL rows came are stale: one match
  # created through the API moves the lists' generation on, as any write does.
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    --data "{\"team_1\":\"Search Bench Marker$SUFFIX\",\"team_2\":\"Search Bench Marker Away\",\"date\":\"2035-01-01T12:00:00Z\",\"odds\":{\"1\":2.1,\"X\":3.25,\"2\":3.6}}" \
    "$API/v1/matches" || warn "search: could not create the marker match (the cached match lists may be stale)"
  if [[ ! -f $STATE/search_pgbench.sql ]]; then
    python3 "$BENCH_DIR/search_sql.py" pgbench >"$STATE/search_pgbench.sql" 2>"$LOGS/search-pgbench.err" \
      || { cat "$LOGS/search-pgbench.err" >&2; harness_failed "the search pgbench script"; }
  fi
  local terms="$DATA/search_terms.txt" n r start=$SEARCH_NEXT
  n=$(wc -l <"$terms")
  log "scenario search$SUFFIX: GET /v1/matches?q=TERM&limit=20 over $n terms (cache misses), then with status=open&sort=-date, then $SEARCH_HIT_TERMS terms (cache hits)"
  if ((! SMOKE)); then  # connections, PostgreSQL's buffers (not recorded)
    DURATION=1 search_run search warmup "$terms" BENCH_START="$start" || harness_failed "wrk (search warm-up)"
    start=$WRK_NEXT
  fi
  for r in $(seq "$ROUNDS"); do
    search_run search "$r" "$terms" BENCH_START="$start" BENCH_STATUSES="$STATUSES" || harness_failed "wrk (search)"
    start=$WRK_NEXT
    [[ -n $SUFFIX ]] || search_ceiling "$r"  # one database: measured once
  done
  search_wrapped search $((start - SEARCH_NEXT)) "$n"
  local open0=$start
  for r in $(seq "$ROUNDS"); do
    search_run search_open "$r" "$terms" BENCH_START="$start" BENCH_QUERY="&status=open&sort=-date" \
      BENCH_STATUSES="$STATUSES" || harness_failed "wrk (search_open)"
    start=$WRK_NEXT
  done
  search_wrapped search_open $((start - open0)) "$n"
  SEARCH_NEXT=$start
  if ((! SMOKE)); then
    DURATION=1 search_run search_hit warmup "$DATA/search_hit_terms.txt" || harness_failed "wrk (search_hit warm-up)"
  fi
  for r in $(seq "$ROUNDS"); do
    search_run search_hit "$r" "$DATA/search_hit_terms.txt" BENCH_STATUSES="$STATUSES" || harness_failed "wrk (search_hit)"
  done
  record_rss search
  search_probes
  [[ -z $SUFFIX ]] && search_explain
  return 0
}
