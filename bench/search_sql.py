#!/usr/bin/env python3
"""The search statements of GET /v1/matches?q= as the server prepares them,
read from src/store/pg/match_store.cpp (its macros expanded by the C
preprocessor, so this follows the code), for bench/run's search scenario:

  search_sql.py statement NAME
      the SQL of one statement (e.g. search_matches_asc)
  search_sql.py explain --terms FILE LABEL=TERM ...
      a psql script that PREPAREs search_matches_asc and _desc as libpq
      does (parameter types inferred), EXECUTEs them with the first 10 terms
      of FILE (as a server connection would have before: after 5 executions
      PostgreSQL may switch a prepared statement to a generic plan, chosen
      without the pattern), then runs EXPLAIN (ANALYZE, BUFFERS) of each
      TERM: q alone (plan_cache_mode auto, i.e. what the server's connections
      get), then the same forced to a custom and to a generic plan, and q
      with status=open and sort=-date; with each statement's count of
      generic and custom plans from pg_prepared_statements
  search_sql.py pgbench
      a pgbench script (-M prepared): the search statement with q alone,
      its pattern read by number from bench_search.terms (variables n=0,
      start, clients, terms: transaction n of client c takes term
      (start + c + (n - 1) * clients) mod terms, as bench/wrk/search.lua
      walks them)
  search_sql.py summarize FILE
      the psql output of `explain` as one JSON object: per run, the plan's
      scan nodes, execution time, rows, shared buffers, and whether the
      plan was generic

Standard library only (plus cpp, which comes with the compiler).
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
SOURCES = [os.path.join(ROOT, "src", "store", "pg", "row_mapping.hpp"),
           os.path.join(ROOT, "src", "store", "pg", "match_store.cpp")]
# The filters besides q are absent ($1 .. $5 NULL), limit 20, offset 0.
WARM_TERMS = 10


def defines(text):
    """Every #define BETSDB_... of TEXT, with its continuation lines."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if re.match(r"\s*#\s*define\s+BETSDB_", lines[i]):
            block = [lines[i]]
            while block[-1].rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            out.append("\n".join(block))
        i += 1
    return out


def literals(text):
    """The concatenation of the C++ string literals (plain and raw) in TEXT."""
    parts = []
    for m in re.finditer(r'R"(\w*)\((.*?)\)\1"|"((?:[^"\\]|\\.)*)"', text, re.S):
        if m.group(3) is not None:
            parts.append(re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)),
                                m.group(3)))
        else:
            parts.append(m.group(2))
    return parts


def statements():
    """{name: sql} of every pg::Statement in match_store.cpp."""
    texts = [open(p).read() for p in SOURCES]
    source = texts[-1]
    body = []
    for m in re.finditer(r"constexpr pg::Statement (k\w+)\{(.*?)\};", source, re.S):
        body.append(f"BENCH_STATEMENT_{m.group(1)} {m.group(2)} BENCH_END")
    if not body:
        raise SystemExit("search_sql: no pg::Statement found in match_store.cpp")
    snippet = "\n".join(d for t in texts for d in defines(t)) + "\n" + "\n".join(body) + "\n"
    proc = subprocess.run(["cpp", "-x", "c++", "-std=c++17", "-P", "-w", "-"], input=snippet,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("search_sql: cpp failed:\n" + proc.stderr)
    out = {}
    for m in re.finditer(r"BENCH_STATEMENT_(k\w+)(.*?)BENCH_END", proc.stdout, re.S):
        parts = literals(m.group(2))
        if len(parts) < 2:
            continue
        out[parts[0]] = "".join(parts[1:]).strip()
    return out


def statement(name):
    found = statements()
    if name not in found:
        raise SystemExit(f"search_sql: no statement {name} in match_store.cpp (have: {', '.join(sorted(found))})")
    return found[name]


def lit(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def like_containing(term):
    """pg::like_containing: the term with LIKE's wildcards and escape escaped, in %...%."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def args_q(term, status=None):
    return [status, None, None, None, None, like_containing(term), 20, 0]


def explain(terms_file, picks):
    asc, desc = statement("search_matches_asc"), statement("search_matches_desc")
    warm = []
    with open(terms_file) as f:
        for line in f:
            if line.strip():
                warm.append(line.rstrip("\n"))
            if len(warm) == WARM_TERMS:
                break
    w = sys.stdout.write
    w("\\pset pager off\n")
    w(f"PREPARE search_matches_asc AS {asc};\n")
    w(f"PREPARE search_matches_desc AS {desc};\n")
    w("\\o /dev/null\n")
    for t in warm:
        w(f"EXECUTE search_matches_asc({', '.join(lit(v) for v in args_q(t))});\n")
        w(f"EXECUTE search_matches_desc({', '.join(lit(v) for v in args_q(t, 'open'))});\n")
    w("\\o\n")
    runs = []
    for label, term in picks:
        runs.append((f"{label} auto", "auto", "search_matches_asc", term, args_q(term)))
    for mode in ("force_custom_plan", "force_generic_plan"):
        for label, term in picks:
            runs.append((f"{label} {mode}", mode, "search_matches_asc", term, args_q(term)))
    for label, term in picks:
        runs.append((f"{label} open -date auto", "auto", "search_matches_desc", term, args_q(term, "open")))
    for title, mode, name, term, args in runs:
        w(f"SET plan_cache_mode = {mode};\n")
        w(f"\\echo '=== {title}: {name} q={term}'\n")
        w(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE {name}({', '.join(lit(v) for v in args)});\n")
    w("RESET plan_cache_mode;\n")
    w("\\echo '=== prepared statements'\n")
    w("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name;\n")


def pgbench():
    sql = statement("search_matches_asc")
    params = {"$1": "NULL::text", "$2": "NULL::text", "$3": "NULL::timestamptz", "$4": "NULL::timestamptz",
              "$5": "NULL::text", "$6": ":pattern", "$7": "20", "$8": "0"}
    # $10 before $1: replace from the highest number down.
    for p in sorted(params, key=lambda k: -int(k[1:])):
        sql = sql.replace(p, params[p])
    if re.search(r"\$\d", sql):
        raise SystemExit("search_sql: the search statement has parameters this script does not know")
    return ("-- Generated by bench/search_sql.py from src/store/pg/match_store.cpp (search_matches_asc):\n"
            "-- GET /v1/matches?q=TERM&limit=20's statement, the absent filters as NULL, the term's\n"
            "-- pattern read by number from bench_search.terms. Variables (pgbench -D):\n"
            "-- n=0, start, clients, terms.\n"
            "\\set n :n + 1\n"
            "\\set i (:start + :client_id + (:n - 1) * :clients) % :terms\n"
            "SELECT pattern FROM bench_search.terms WHERE n = :i \\gset\n"
            + " ".join(sql.split()) + ";\n")


def summarize(path):
    text = open(path).read()
    runs = []
    for block in re.split(r"^=== ", text, flags=re.M)[1:]:
        head, _, body = block.partition("\n")
        if head.startswith("prepared statements"):
            counts = {}
            for m in re.finditer(r"^\s*(search_matches_\w+)\s*\|\s*(\d+)\s*\|\s*(\d+)", body, re.M):
                counts[m.group(1)] = {"generic_plans": int(m.group(2)), "custom_plans": int(m.group(3))}
            runs.append({"prepared": counts})
            continue
        m = re.match(r"(.*?): (search_matches_\w+) q=(.*)$", head)
        if not m:
            continue
        title, name, term = m.groups()
        nodes = []
        for n in re.finditer(r"(Bitmap Index Scan|Index Scan Backward|Index Scan|Index Only Scan|Seq Scan|"
                             r"Bitmap Heap Scan)(?: using| on) (\w+)", body):
            nodes.append(f"{n.group(1)} {n.group(2)}")
        exe = re.search(r"Execution Time: ([\d.]+) ms", body)
        plan_t = re.search(r"Planning Time: ([\d.]+) ms", body)
        buf = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?(?:.*?temp(?: read=\d+)? written=(\d+))?",
                        body)
        limit = re.search(r"Limit .*?\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", body)
        # The scan that feeds the count: every row the search matched (after
        # the index's recheck) passes through it.
        scan = re.search(r"(?:Bitmap Heap Scan|Index Scan|Seq Scan)[^\n]*\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)",
                         body)
        index = re.search(r"Bitmap Index Scan[^\n]*\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", body)
        sort = re.search(r"Sort Method: ([^\n]+)", body)
        recheck = re.search(r"Rows Removed by (?:Index Recheck|Filter): (\d+)", body)
        runs.append({
            "title": title, "statement": name, "term": term,
            "generic": bool(re.search(r"\$\d", body)),
            "scans": nodes,
            "execution_ms": float(exe.group(1)) if exe else None,
            "planning_ms": float(plan_t.group(1)) if plan_t else None,
            "shared_hit": int(buf.group(1)) if buf and buf.group(1) else 0,
            "shared_read": int(buf.group(2)) if buf and buf.group(2) else 0,
            "temp_written": int(buf.group(3)) if buf and buf.group(3) else 0,
            "index_rows": int(index.group(1)) if index else None,
            "matched_rows": int(scan.group(1)) if scan else None,
            "returned_rows": int(limit.group(1)) if limit else None,
            "rows_removed": int(recheck.group(1)) if recheck else 0,
            "sort": sort.group(1).strip() if sort else None,
            "error": "ERROR" in body and not exe,
        })
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("statement")
    s.add_argument("name")
    e = sub.add_parser("explain")
    e.add_argument("--terms", required=True)
    e.add_argument("picks", nargs="+", help="LABEL=TERM")
    sub.add_parser("pgbench")
    m = sub.add_parser("summarize")
    m.add_argument("file")
    args = ap.parse_args()
    if args.cmd == "statement":
        print(statement(args.name))
    elif args.cmd == "explain":
        picks = []
        for p in args.picks:
            label, _, term = p.partition("=")
            if not term:
                ap.error(f"not LABEL=TERM: {p}")
            picks.append((label, term))
        explain(args.terms, picks)
    elif args.cmd == "pgbench":
        sys.stdout.write(pgbench())
    else:
        print(json.dumps(summarize(args.file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
