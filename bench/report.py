#!/usr/bin/env python3
"""Turns bench/run's raw records (one JSON object a line) into the results:
medians over rounds, each scenario's ratio to its ceiling, the targets of
issue 7 met or missed, printed as a table and written as JSON, a gnuplot PNG
and a Markdown page.

  report.py --raw RAW.jsonl --json OUT.json --md OUT.md --png OUT.png --work DIR [--strict]

Exit status: 0, or 3 with --strict when a target was missed. Standard
library only (plus the gnuplot binary for the chart).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap

# name, what it requests, its ceiling
SCENARIOS = [
    ("matches", "GET /v1/matches?status=open&limit=20 (public, cached)", "nginx"),
    ("user_bets", "GET /v1/users/{id}/bets?limit=20, rotating users and tokens (cached)", "nginx"),
    ("summary", "GET /v1/bets/summary (admin, cached)", "nginx"),
    ("place", "POST /v1/bets, every bet a new user x match x selection", "pgbench_place"),
    ("cart_add", "POST /v1/users/{id}/cart/items", "nginx"),
    ("cart_checkout", "POST /v1/users/{id}/cart/checkout of a 5-item cart", "pgbench_checkout"),
]
CEILING_NAMES = {
    "nginx": "nginx, static file of the matches response's size",
    "pgbench_place": "pgbench, one placement's transaction",
    "pgbench_checkout": "pgbench, one 5-item checkout's transaction",
    "pgbench_place_batch": "pgbench, the group commit's statement at the batch size place saw (bets/s)",
}
# The group commit's batches (betsdb_placement_batches_total{asks=...}).
BATCH_BUCKETS = ["1", "2-3", "4-7", "8-15", "16-31", "32+"]
EXTRA = [
    ("place_odds", "POST /v1/bets as place, each bet carrying its odds with accept_price_change none"),
    ("place_hot", "POST /v1/bets, every bet on one match with stake and liability limits (a cup final's kick-off)"),
    ("place_limited", "POST /v1/bets as place, by bettors with day, week and month stake limits and a long "
                      "history of stakes over the last 30 days (issue 21; see below)"),
    ("acca", "POST /v1/bets, every bet a new 4-leg accumulator for its user (issue 19), as place places singles"),
    ("idle_baseline", "matches, before opening the idle connections (--idle)"),
    ("idle_loaded", "matches, with the idle keep-alive connections open (--idle: 1,000; --many: 10,000)"),
    ("matches_c1000", "matches (cached), wrk -c1000: many clients at once (--many)"),
    ("place_c1000", "place, wrk -c1000: many bettors at once (--many)"),
    ("big_user_bets_miss", "GET /v1/users/{id}/bets?limit=20&offset=O (a user's 1,000 bets), every request a miss, -t1 -c1 (--big)"),
    ("big_bets_miss", "GET /v1/bets?limit=20&offset=i (admin, all bets), every request a miss, -t1 -c1 (--big)"),
]
# cash_out: each cash-out a quote, then its accept (bench/wrk/cash_out.lua);
# its figure is accepted cash-outs per second. No ceiling and no target.
CASH_OUT_WHAT = ("POST /v1/bets/{id}/cash-out/quote, then POST /v1/bets/{id}/cash-out with the quote_id, "
                 "every cash-out a pending single bet of its own")
# signin (issue 22): sign-ins hash on the server's password threads; a paced
# public read alone and beside them shows whether the event loops stay free.
SIGNIN = [
    ("signin", "POST /v1/sessions, the seeded users round-robin (every request an Argon2id verification)"),
    ("signin_mixed", "as signin, 1 request in N a wrong password for an unknown email (401 invalid_credentials)"),
    ("signin_read_alone", "a paced public read (GET /v1/matches/{id}), alone"),
    ("signin_read", "the same paced read, during signin"),
]
# The throughput targets, in % of each scenario's ceiling.
RATIO_TARGETS = {"matches": 65, "user_bets": 65, "summary": 65, "place": 70, "cart_add": 50, "cart_checkout": 50}
# --redis-cluster (issue 16): each scenario on the cluster reaches this share
# of its throughput on one Redis, measured in the same run.
CLUSTER_TARGET = 0.80
CPU_GROUPS = ["betsdb", "redis", "postgres", "nginx", "wrk", "other processes"]
# --cluster (issue 17): the scripts/cluster topology, one instance directly
# and 1, 2, 3 instances through HAProxy; with 3 instances, each scenario
# reaches this share of one instance reached directly, in the same run.
SCALE_CONFIGS = [("direct", "one instance, directly"), ("h1", "HAProxy, 1 instance"),
                 ("h2", "HAProxy, 2 instances"), ("h3", "HAProxy, 3 instances"),
                 ("h3ka", "3 instances, HAProxy keeping server connections alive (diagnostic)")]
SCALE_TARGETS = {"matches": 0.70, "user_bets": 0.70, "summary": 0.70, "place": 0.90, "cart_add": 0.70,
                 "cart_checkout": 0.90}
SCALE_CPU_GROUPS = ["betsdb", "haproxy", "postgres", "standby", "redis", "wrk", "other processes"]
MB = 1024.0  # kB per MB (RSS is reported by the kernel in kB)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load(path):
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    raise SystemExit(f"report: {path}:{n}: {e}")
    return records


def cpu_per_request(rounds, cpus):
    """Median over rounds of each process group's CPU microseconds per request."""
    per = {}
    busy = []
    for r in rounds:
        a, b, n = r.get("cpu_after"), r.get("cpu_before"), r["result"]["requests"]
        if not a or not b or not n:
            continue
        used = {k: a[k] - b[k] for k in a if k != "wall"}
        used["wrk"] = r.get("wrk_cpu_s") or 0.0
        ours = sum(v for k, v in used.items() if k != "machine")
        used["other processes"] = max(0.0, used["machine"] - ours)
        for k, v in used.items():
            if k != "machine":
                per.setdefault(k, []).append(v * 1e6 / n)
        if cpus and a.get("wall") and b.get("wall"):
            busy.append(used["machine"] / (a["wall"] - b["wall"]) / cpus)
    if not per:
        return None
    out = {k: round(median(v), 1) for k, v in per.items() if median(v) >= 0.05}
    out["machine_busy"] = round(median(busy), 3) if busy else None
    return out


def summarize_wrk(rounds, cpus=None):
    cpu = cpu_per_request(rounds, cpus)
    res = [r["result"] for r in sorted(rounds, key=lambda r: r["round"])]
    statuses = {}
    samples = []
    for r in res:
        for k, v in (r.get("statuses") or {}).items():
            statuses[k] = statuses.get(k, 0) + v
        samples += r.get("samples") or []
    # Only answers that did the work count: a 422 cart_empty is not a checkout.
    ok_rps = [(r["requests"] - r["non2xx"]) / (r["duration_us"] / 1e6) for r in res]
    return {
        "rps": median(ok_rps),
        "rps_all_answers": median([r["rps"] for r in res]),
        "p50_ms": median([r["latency_us"]["p50"] / 1000.0 for r in res]),
        "p99_ms": median([r["latency_us"]["p99"] / 1000.0 for r in res]),
        "requests": sum(r["requests"] for r in res),
        "non2xx": sum(r["non2xx"] for r in res),
        "socket_errors": sum(r["errors"][k] for r in res for k in ("connect", "read", "write", "timeout")),
        "statuses": statuses or None,
        "error_samples": samples[:5] or None,
        "cpu_us_per_request": cpu,
        "rounds": [{"rps": round(ok, 1), "rps_all_answers": round(r["rps"], 1), "p50_ms": r["latency_us"]["p50"] / 1000.0,
                    "p99_ms": r["latency_us"]["p99"] / 1000.0, "max_ms": r["latency_us"]["max"] / 1000.0,
                    "requests": r["requests"], "non2xx": r["non2xx"]} for r, ok in zip(res, ok_rps)],
    }


def build(records):
    meta = next((r for r in records if r["kind"] == "meta"), {})
    seed = next((r["result"] for r in records if r["kind"] == "seed"), {})
    wrk = {}
    for r in records:
        if r["kind"] == "wrk":
            wrk.setdefault(r["scenario"], []).append(r)
    unavailable = {r["scenario"]: r for r in records if r["kind"] == "unavailable"}
    notes = [r for r in records if r["kind"] == "note"]

    cpus = meta.get("cpus")
    ceilings = {}
    if "nginx" in wrk:
        ceilings["nginx"] = summarize_wrk(wrk["nginx"], cpus)
    batch_ceiling = next((r for r in records if r["kind"] == "batch_ceiling"), None)
    for name in ("place", "checkout", "place_batch"):
        records_of = [r for r in records if r["kind"] == "pgbench" and r["name"] == name]
        rounds = [r["result"] for r in records_of]
        # The batched ceiling places `size` bets a transaction: its rate is in bets.
        per = batch_ceiling["size"] if name == "place_batch" and batch_ceiling else 1
        if rounds:
            ceilings["pgbench_" + name] = {
                "cpu_us_per_request": cpu_per_request(
                    [dict(r, result=dict(r["result"], requests=r["result"]["transactions"])) for r in records_of], cpus),
                "rps": median([r["tps"] * per for r in rounds]),
                "tps": median([r["tps"] for r in rounds]),
                "bets_per_transaction": per,
                "clients": batch_ceiling["clients"] if name == "place_batch" and batch_ceiling else None,
                "p50_ms": median([r["latency_ms"]["p50"] for r in rounds]),
                "p99_ms": median([r["latency_ms"]["p99"] for r in rounds]),
                "failed": sum((r["failed"] or 0) for r in rounds),
                "placed_all": all(r.get("placed_all", True) for r in rounds),
                "aborted": any(r["aborted"] for r in rounds),
                "rounds": [{"tps": r["tps"], "p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"],
                            "transactions": r["transactions"]} for r in rounds],
            }
    redis = {}
    for r in records:
        if r["kind"] == "redis":
            x = r["result"]
            redis.setdefault(f'{x["test"]} pipeline {x["pipeline"]}', []).append(x)
    if redis:
        ceilings["redis"] = {k: {"rps": median([x["rps"] for x in v]), "p50_ms": median([x["p50_ms"] for x in v]),
                                 "p99_ms": median([x["p99_ms"] for x in v])} for k, v in sorted(redis.items())}

    scenarios = {}
    for name, what, ceiling in SCENARIOS:
        entry = {"what": what, "ceiling": ceiling}
        if name in wrk:
            entry.update(summarize_wrk(wrk[name], cpus))
            entry["available"] = True
            c = ceilings.get(ceiling)
            entry["ceiling_rps"] = c["rps"] if c else None
            entry["ratio"] = (entry["rps"] / c["rps"]) if c and c["rps"] else None
        elif name in unavailable:
            u = unavailable[name]
            entry.update({"available": False, "reason": f'{u["route"]} answered {u["status"]} {u["code"]}'.strip()})
        else:
            entry.update({"available": None, "reason": "not run"})
        entry["notes"] = [n["text"] for n in notes if n["scenario"] == name] or None
        scenarios[name] = entry

    extra = {}
    for name, what in EXTRA:
        if name in wrk:
            extra[name] = dict(what=what, **summarize_wrk(wrk[name], cpus))
        elif name in unavailable:
            extra[name] = {"what": what, "available": False}

    cluster = {}
    for name, what, _ in SCENARIOS:
        key = name + "_cluster"
        if key in wrk:
            entry = dict(what=what, **summarize_wrk(wrk[key], cpus))
            single = scenarios[name]
            entry["single_rps"] = single.get("rps")
            entry["ratio_to_single"] = (entry["rps"] / single["rps"]) if single.get("rps") else None
            entry["notes"] = [n["text"] for n in notes if n["scenario"] == key] or None
            cluster[name] = entry
        elif key in unavailable:
            cluster[name] = {"what": what, "available": False}

    scale = build_scale(records, wrk, unavailable, notes, cpus)

    rss = [r for r in records if r["kind"] == "rss"]
    rss_out = {"by_phase": [{"after": r["after"], "peak_mb": round(r["hwm_kb"] / MB, 1),
                             "rss_mb": round(r["rss_kb"] / MB, 1)} for r in rss],
               "peak_mb": round(max(r["hwm_kb"] for r in rss) / MB, 1) if rss else None}
    # The peak "under all scenarios" is over the five scenarios (and the
    # ceilings, which run first); --idle, --many and --big have targets of their own.
    # signin: libsodium allocates each hash's 64 MiB while it runs (one per
    # password thread), reported apart (res["signin"]["peak_mb"]); the
    # phases after it inherit its VmHWM, so search (which runs after it) is
    # left out too.
    main_phases = [r for r in rss if r["after"] not in ("idle", "many", "stream", "big", "end", "end_cluster", "signin",
                                                        "signin_cluster", "search", "search_cluster")]
    rss_out["peak_scenarios_mb"] = round(max(r["hwm_kb"] for r in main_phases) / MB, 1) if main_phases else None

    big = next((r for r in records if r["kind"] == "big"), None)
    limited = next((r for r in records if r["kind"] == "limited_seed"), None)
    summary_miss = next((r["result"] for r in records if r["kind"] == "summary_miss"), None)
    idle_rounds = [r for r in records if r["kind"] == "idle"]
    idle = None
    if idle_rounds:
        costs = [(r["rss_after_kb"] - r["rss_before_kb"]) / MB for r in idle_rounds]
        # The largest round: later rounds reuse the memory the allocator kept
        # from the first round's connections, so their growth understates.
        idle = {"connections": idle_rounds[0]["connections"],
                "rss_cost_mb": round(max(costs), 2),
                "rss_cost_mb_rounds": [round(c, 2) for c in costs],
                "held": [r.get("held") for r in idle_rounds]}
        b, l = extra.get("idle_baseline"), extra.get("idle_loaded")
        if b and l and b.get("rps") and l.get("rps"):
            idle["rps_ratio"] = l["rps"] / b["rps"]
            idle["p99_ratio"] = l["p99_ms"] / b["p99_ms"] if b["p99_ms"] else None

    result = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "meta": {k: v for k, v in meta.items() if k != "kind"},
        "seed": seed,
        "scenarios": scenarios,
        "ceilings": ceilings,
        "extra": extra,
        "rss": rss_out,
        "big": {"bets": big["bets"], "seed_seconds": big["seed_seconds"], "summary_miss": summary_miss} if big else None,
        "limited": build_limited(limited, extra, scenarios),
        "idle": idle,
        "stream": build_stream(records, wrk, unavailable, notes, cpus),
        "signin": build_signin(records, wrk, unavailable, notes, rss, cpus),
        "cash_out": build_cash_out(wrk, unavailable, notes, cpus),
        "search": build_search(records, wrk, unavailable, notes, cpus, scenarios, ceilings),
        "cluster": cluster or None,
        "scale": scale,
        "notes": [f'{n["scenario"]}: {n["text"]}' for n in notes
                  if n["scenario"] not in {name for name, _, _ in SCENARIOS}
                  and n["scenario"] != "cash_out"
                  and not n["scenario"].startswith("search")
                  and n["scenario"] not in {name + "_cluster" for name, _, _ in SCENARIOS}
                  and not any(n["scenario"] == f"{name}_{c}" for name, _, _ in SCENARIOS for c, _ in SCALE_CONFIGS)],
        "loadavg": {r["when"]: r["loadavg"] for r in records if r["kind"] == "load"},
        "pgbench_sql": next((r["source"] for r in records if r["kind"] == "pgbench_sql"), None),
        "batches": build_batches(records),
    }
    result["targets"] = targets(result)
    return result


def build_cash_out(wrk, unavailable, notes, cpus):
    """cash_out: accepted cash-outs per second (the 200 answers to accepts that
    bench/wrk/cash_out.lua counts), beside wrk's figures for both requests,
    and the CPU per cash-out (a quote and its accept)."""
    rounds = wrk.get("cash_out")
    if not rounds:
        u = unavailable.get("cash_out")
        if not u:
            return None
        return {"what": CASH_OUT_WHAT, "available": False,
                "reason": f'{u["route"]} answered {u["status"]} {u["code"]}'.strip()}
    out = dict(what=CASH_OUT_WHAT, available=True, **summarize_wrk(rounds, cpus))
    per_s = [r["result"].get("cash_outs", 0) / (r["result"]["duration_us"] / 1e6) for r in rounds]
    out["cash_outs_per_s"] = median(per_s)
    out["cash_outs"] = sum(r["result"].get("cash_outs", 0) for r in rounds)
    out["quotes"] = sum(r["result"].get("quotes", 0) for r in rounds)
    out["cpu_us_per_cash_out"] = cpu_per_request(
        [dict(r, result=dict(r["result"], requests=r["result"].get("cash_outs", 0))) for r in rounds], cpus)
    for r, c in zip(sorted(rounds, key=lambda r: r["round"]), out["rounds"]):
        c["cash_outs"] = r["result"].get("cash_outs", 0)
        c["cash_outs_per_s"] = round(c["cash_outs"] / (r["result"]["duration_us"] / 1e6), 1)
    out["notes"] = [n["text"] for n in notes if n["scenario"] == "cash_out"] or None
    return out


def build_batches(records):
    """The group commit (issue 24): how many placing statements carried how
    many placements during each place scenario, from betsdb's own counters."""
    out = {}
    for r in records:
        if r["kind"] != "batches":
            continue
        b, a = r["before"], r["after"]
        buckets = {k: a["batches"].get(k, 0) - b["batches"].get(k, 0) for k in BATCH_BUCKETS}
        statements = sum(buckets.values())
        asks = a["asks"] - b["asks"]
        out[r["scenario"]] = {"buckets": buckets, "statements": statements, "asks": asks,
                              "mean": asks / statements if statements else None,
                              "retried_alone": a["retried_alone"] - b["retried_alone"]}
    return out or None


def build_limited(seed, extra, scenarios):
    """place_limited (issue 21) beside place: its seed, and the ratio of their throughputs."""
    e = extra.get("place_limited")
    if not seed and not e:
        return None
    out = {k: v for k, v in (seed or {}).items() if k != "kind"}
    place = scenarios.get("place") or {}
    if e and e.get("rps") is not None:
        out.update({"rps": e["rps"], "p50_ms": e["p50_ms"], "p99_ms": e["p99_ms"], "non2xx": e["non2xx"],
                    "place_rps": place.get("rps"), "place_p50_ms": place.get("p50_ms"),
                    "place_p99_ms": place.get("p99_ms"),
                    "ratio": e["rps"] / place["rps"] if place.get("rps") else None,
                    "cpu_us_per_request": e.get("cpu_us_per_request"),
                    "place_cpu_us_per_request": place.get("cpu_us_per_request")})
    elif e:
        out["available"] = False
    return out


# search (issue 23): GET /v1/matches?q= over 100,000 matches seeded in SQL.
SEARCH = [
    ("search", "q=TERM&limit=20, every request a new term (cache misses)"),
    ("search_open", "q=TERM&status=open&sort=-date&limit=20, every request a new term (cache misses)"),
    ("search_hit", "q over 20 terms, warmed (cache hits)"),
]
SEARCH_PICKS = [("common3", "the 3-letter term of most matches"), ("rare3", "the 3-letter term of fewest"),
                ("common2", "the 2-letter term of most matches"), ("rare", "the 6..8-letter term of fewest")]


def build_search(records, wrk, unavailable, notes, cpus, scenarios, ceilings):
    seed = next((r for r in records if r["kind"] == "search_seed"), None)
    if "search" in unavailable:
        u = unavailable["search"]
        return {"available": False, "reason": f'{u["route"]} answered {u["status"]} {u["code"]}'.strip()}
    if not seed and not any(name in wrk for name, _ in SEARCH):
        return None
    out = {"available": True, "seed": {k: v for k, v in (seed or {}).items() if k != "kind"}, "runs": {}}
    for name, what in SEARCH:
        if name not in wrk:
            continue
        e = dict(what=what, **summarize_wrk(wrk[name], cpus))
        cache = {}
        for r in records:
            if r["kind"] == "search_cache" and r["scenario"] == name:
                for k, v in r["after"].items():
                    cache[k] = cache.get(k, 0) + v - r["before"].get(k, 0)
        e["cache"] = {k: int(v) for k, v in sorted(cache.items()) if v} or None
        hits, misses = cache.get("hit", 0), cache.get("miss", 0)
        e["hit_share"] = hits / (hits + misses) if hits + misses else None
        out["runs"][name] = e
    pg = [r for r in records if r["kind"] == "pgbench" and r["name"] == "search"]
    if pg:
        rounds = [r["result"] for r in pg]
        out["pgbench"] = {
            "cpu_us_per_request": cpu_per_request(
                [dict(r, result=dict(r["result"], requests=r["result"]["transactions"])) for r in pg], cpus),
            "rps": median([r["tps"] for r in rounds]),
            "p50_ms": median([r["latency_ms"]["p50"] for r in rounds]),
            "p99_ms": median([r["latency_ms"]["p99"] for r in rounds]),
            "failed": sum((r["failed"] or 0) for r in rounds),
            "aborted": any(r["aborted"] for r in rounds),
        }
    miss, hit = out["runs"].get("search") or {}, out["runs"].get("search_hit") or {}
    if miss.get("rps") and (out.get("pgbench") or {}).get("rps"):
        out["miss_ratio_to_pgbench"] = miss["rps"] / out["pgbench"]["rps"]
    nginx = ceilings.get("nginx") or {}
    if hit.get("rps") and nginx.get("rps"):
        out["hit_ratio_to_nginx"] = hit["rps"] / nginx["rps"]
    out["nginx_rps"] = nginx.get("rps")
    m = scenarios.get("matches") or {}
    if m.get("rps") is not None:
        out["matches"] = {"rps": m["rps"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"]}
    out["probes"] = [{"label": r["label"], "term": r["term"], **r["result"]}
                     for r in records if r["kind"] == "search_probe" and r["scenario"] == "search"] or None
    ex = next((r for r in records if r["kind"] == "search_explain"), None)
    if ex:
        out["explain"] = {"file": ex["file"], "runs": ex["runs"]}
    out["notes"] = [n["text"] for n in notes if n["scenario"].startswith("search")] or None
    return out


def build_signin(records, wrk, unavailable, notes, rss, cpus):
    out = {}
    for suffix in ("", "_cluster"):
        key = "signin" + suffix
        seed = next((r for r in records if r["kind"] == "signin_seed" and r["scenario"] == key), None)
        entry = {}
        if key in unavailable:
            u = unavailable[key]
            entry.update({"available": False, "reason": f'{u["route"]} answered {u["status"]} {u["code"]}'.strip()})
        elif key in wrk:
            entry["available"] = True
        else:
            continue
        if seed:
            entry["seed"] = seed["result"]
            entry["settings"] = seed.get("settings")
        runs = {}
        for name, what in SIGNIN:
            if name + suffix in wrk:
                runs[name] = dict(what=what, **summarize_wrk(wrk[name + suffix], cpus))
        entry["runs"] = runs
        alone, during = runs.get("signin_read_alone") or {}, runs.get("signin_read") or {}
        entry["read_p99_ratio"] = (during["p99_ms"] / alone["p99_ms"]) if alone.get("p99_ms") and during.get(
            "p99_ms") is not None else None
        mixed = runs.get("signin_mixed") or {}
        if mixed.get("statuses"):
            entry["mixed_unexpected"] = sum(v for k, v in mixed["statuses"].items() if k not in ("201", "401"))
        peak = [r["hwm_kb"] for r in rss if r["after"] == key]
        entry["peak_mb"] = round(peak[0] / MB, 1) if peak else None
        entry["notes"] = [n["text"] for n in notes if n["scenario"] == key] or None
        out[key] = entry
    return out or None


# --stream (issue 20): the API scenarios run without and with the stream.
STREAM_SCENARIOS = [("matches", "GET /v1/matches?status=open&limit=20"), ("place", "POST /v1/bets, as place")]
STREAM_P99_MS = 100.0
STREAM_RSS_MB = 64.0
STREAM_API_SHARE = 0.90


def stream_summary(rounds):
    """bench/stream.py results over rounds: the "alone" phase (or the whole
    run when there was no API load) gives the fan-out figures; p99 and max
    are the worst round's, p50 the median round's; misses count both phases."""
    if not rounds:
        return None
    res = [r["result"] for r in sorted(rounds, key=lambda r: r["round"])]

    def phase(r, name):
        ph = r.get("phases")
        return ph.get(name) if ph else (r if name == "alone" else None)

    alone = [phase(r, "alone") for r in res]
    loaded = [p for p in (phase(r, "with_api") for r in res) if p and p.get("events")]

    def lat(ps, key, pick, field="latency_ms"):
        vals = [p[field][key] for p in ps if p and p[field][key] is not None]
        return pick(vals) if vals else None

    return {
        "clients": res[0]["clients"],
        "connected": min(r.get("connected", 0) for r in res),
        "rate": res[0]["rate"],
        "events": sum(p["events"] for p in alone if p),
        "p50_ms": lat(alone, "p50", median),
        "p99_ms": lat(alone, "p99", max),
        "max_ms": lat(alone, "max", max),
        "first_p50_ms": lat(alone, "p50", median, "first_latency_ms"),
        "p99_ms_rounds": [p["latency_ms"]["p99"] if p else None for p in alone],
        "with_api_events": sum(p["events"] for p in loaded),
        "with_api_p50_ms": lat(loaded, "p50", median),
        "with_api_p99_ms": lat(loaded, "p99", max),
        "with_api_max_ms": lat(loaded, "max", max),
        "write_p50_ms": lat(alone, "p50", median, "write_latency_ms"),
        "write_p99_ms": lat(alone, "p99", max, "write_latency_ms"),
        "missed_events": sum(r.get("missed_events", 0) for r in res),
        "client_misses": sum(r.get("client_misses", 0) for r in res),
        "duplicates": sum(r.get("duplicates", 0) for r in res),
        "dropped_clients": sum(r.get("dropped_clients", 0) for r in res),
        "refused_503": sum(r.get("refused_503", 0) for r in res),
        "write_errors": sum(v for r in res for k, v in (r.get("write_statuses") or {}).items()
                            if not k.startswith("2")),
        "connect_seconds": max(r.get("connect_seconds") or 0 for r in res),
        # The largest round: later rounds reuse memory the allocator kept.
        "rss_growth_mb": max((r["rss_growth_mb"] for r in res if r.get("rss_growth_mb") is not None), default=None),
        "rss_growth_mb_rounds": [r.get("rss_growth_mb") for r in res],
        "server_cpu_share": median([v for v in (stream_cpu_alone(r)[0] for r in res) if v is not None]),
        "harness_cpu_share": max((v for v in (stream_cpu_alone(r)[1] for r in res) if v is not None), default=None),
        "rounds": res,
    }


def stream_cpu_alone(r):
    """(server, harness) share of a core while the stream ran alone, before
    any API scenario. A round measured before stream.py reported that phase
    apart, and had API scenarios, has none: its whole-run figure counts the
    server's work on those scenarios too."""
    if r.get("alone_seconds"):
        server = r.get("server_cpu_s_alone")
        return (server / r["alone_seconds"] if server is not None else None), r.get("harness_cpu_share_alone")
    if r.get("phases") or not r.get("seconds"):
        return None, None
    server = r.get("server_cpu_s")
    return (server / r["seconds"] if server is not None else None), r.get("harness_cpu_share")


def build_stream(records, wrk, unavailable, notes, cpus):
    settings = next((r for r in records if r["kind"] == "stream_settings"), None)
    if "stream" in unavailable:
        u = unavailable["stream"]
        return {"available": False, "reason": f'{u["route"]} answered {u["status"]} {u["code"]}'.strip()}
    if not settings:
        return None
    out = {"available": True, "settings": {k: v for k, v in settings.items() if k != "kind"},
           "betsdb": stream_summary([r for r in records if r["kind"] == "stream"]),
           "ceiling": stream_summary([r for r in records if r["kind"] == "stream_ceiling"]),
           "api": {}}
    for name, what in STREAM_SCENARIOS:
        base, loaded = wrk.get(f"stream_{name}_base"), wrk.get(f"stream_{name}_loaded")
        if not base or not loaded:
            if f"stream_{name}" in unavailable:
                out["api"][name] = {"what": what, "available": False}
            continue
        b, l = summarize_wrk(base, cpus), summarize_wrk(loaded, cpus)
        out["api"][name] = {"what": what, "base": b, "loaded": l,
                            "ratio": (l["rps"] / b["rps"]) if b.get("rps") and l.get("rps") is not None else None}
    out["notes"] = [n["text"] for n in notes if n["scenario"].startswith("stream")] or None
    return out


def build_scale(records, wrk, unavailable, notes, cpus):
    meta = next((r for r in records if r["kind"] == "scale_meta"), None)
    if not meta:
        return None
    rows = {}
    for name, what, _ in SCENARIOS:
        entry = {"what": what, "configs": {}}
        for cfg, _ in SCALE_CONFIGS:
            key = f"{name}_{cfg}"
            if key in wrk:
                entry["configs"][cfg] = summarize_wrk(wrk[key], cpus)
                entry["configs"][cfg]["notes"] = [n["text"] for n in notes if n["scenario"] == key] or None
            elif key in unavailable:
                entry["configs"][cfg] = {"available": False}
        if not entry["configs"]:
            continue
        direct = (entry["configs"].get("direct") or {}).get("rps")
        for cfg, c in entry["configs"].items():
            c["ratio_to_direct"] = (c["rps"] / direct) if direct and c.get("rps") is not None else None
        entry["target"] = SCALE_TARGETS.get(name)
        rows[name] = entry
    miss = {}
    for variant in ("primary", "standby"):
        key = "miss_" + variant
        if key not in wrk:
            continue
        m = summarize_wrk(wrk[key], cpus)
        deltas = {}
        for r in records:
            if r["kind"] == "scale_reads" and r["scenario"] == key:
                for k, v in r["after"].items():
                    deltas[k] = deltas.get(k, 0) + v - r["before"].get(k, 0)
        m["counters"] = {k: int(v) for k, v in sorted(deltas.items()) if v}
        miss[variant] = m
    if miss.get("primary") and miss.get("standby") and miss["primary"].get("rps"):
        miss["standby_to_primary"] = miss["standby"]["rps"] / miss["primary"]["rps"]
    return {"meta": {k: v for k, v in meta.items() if k != "kind"}, "scenarios": rows, "miss": miss or None}


def targets(res):
    out = []
    sc = res["scenarios"]
    if not res["meta"].get("main", True):
        scale_targets(res, out)
        return out

    def add(what, value, limit, ok, unit="", fmt="{:.2f}"):
        if value is None:
            out.append({"target": what, "value": None, "limit": limit, "status": "not measured"})
        else:
            out.append({"target": what, "value": value, "display": fmt.format(value) + unit, "limit": limit,
                        "status": "met" if ok(value) else "missed"})

    pct = "{:.0%}"
    # Issue 24, section 0: 65% of nginx on every processor these machines come with.
    for name in ("matches", "user_bets", "summary"):
        s = sc[name]
        add(f"{name}: req/s >= 65% of nginx", s.get("ratio"), ">= 65%", lambda v: v >= 0.65, fmt=pct)
        add(f"{name}: p99 < 5 ms", s.get("p99_ms"), "< 5 ms", lambda v: v < 5, " ms")
    s = sc["place"]
    add("place: req/s >= 70% of the pgbench ceiling", s.get("ratio"), ">= 70%", lambda v: v >= 0.70, fmt=pct)
    # Issue 24, group commit: twice the single-bet ceiling, 70% of the batched one.
    add("place: req/s >= 2x the single-bet pgbench ceiling", s.get("ratio"), ">= 2.00x",
        lambda v: v >= 2.0, fmt="{:.2f}x")
    batched = res["ceilings"].get("pgbench_place_batch") or {}
    add("place: req/s >= 70% of the batched pgbench ceiling",
        s["rps"] / batched["rps"] if s.get("rps") and batched.get("rps") else None, ">= 70%",
        lambda v: v >= 0.70, fmt=pct)
    add("place: p99 < 30 ms", s.get("p99_ms"), "< 30 ms", lambda v: v < 30, " ms")
    add("place: zero non-2xx", s.get("non2xx"), "0", lambda v: v == 0, fmt="{}")
    history = f'{(res.get("limited") or {}).get("bets_per_user", 100000):,}'
    for name, share, what in (("place_odds", 0.95, "bets carrying odds"),
                              ("place_hot", 0.50, "place_hot (one match, limits set)"),
                              ("place_limited", 0.90, f"place_limited (bettors' stake limits, {history}-bet histories)"),
                              ("acca", 0.70, "acca (4-leg accumulators)")):
        e = res["extra"].get(name) or {}
        ratio = e["rps"] / s["rps"] if e.get("rps") and s.get("rps") else None
        add(f"{what}: req/s >= {share:.0%} of place", ratio, f">= {share:.0%}", lambda v, m=share: v >= m,
            fmt=pct)
        add(f"{name}: zero non-2xx", e.get("non2xx"), "0", lambda v: v == 0, fmt="{}")
    add("cart: add-to-cart req/s >= 50% of nginx", sc["cart_add"].get("ratio"), ">= 50%",
        lambda v: v >= 0.50, fmt=pct)
    add("cart: 5-item checkout >= 50% of its pgbench ceiling", sc["cart_checkout"].get("ratio"), ">= 50%",
        lambda v: v >= 0.50, fmt=pct)
    add("cart: 5-item checkout >= 2x its single-checkout pgbench ceiling (group commit)",
        sc["cart_checkout"].get("ratio"), ">= 2.00x", lambda v: v >= 2.0, fmt="{:.2f}x")
    add("peak RSS of betsdb under all scenarios < 64 MB", res["rss"]["peak_scenarios_mb"], "< 64 MB",
        lambda v: v < 64, " MB", "{:.1f}")
    big_list = res["extra"].get("big_user_bets_miss") or {}
    bets = f'{(res["big"] or {}).get("bets", 10000000):,} bets'
    add(f"{bets}: paged bet list, cache miss, p50 < 10 ms", big_list.get("p50_ms"), "< 10 ms",
        lambda v: v < 10, " ms")
    miss = (res["big"] or {}).get("summary_miss") or {}
    add(f"{bets}: summary on a cache miss < 5 ms (median)", miss.get("p50_ms"), "< 5 ms",
        lambda v: v < 5, " ms", "{:.1f}")
    st = res.get("stream") or {}
    sb = st.get("betsdb") or {}
    clients = sb.get("clients") or 10000
    rate = sb.get("rate") or 20
    add(f"{clients:,} stream clients, {rate:g} match changes/s: fan-out p99 < {STREAM_P99_MS:.0f} ms "
        "(write's response to the last client, worst round)", sb.get("p99_ms"), f"< {STREAM_P99_MS:.0f} ms",
        lambda v: v < STREAM_P99_MS, " ms", "{:.1f}")
    add("... every client connected", sb.get("connected"), f"{clients:,}", lambda v: v >= clients, fmt="{}")
    add("... events missed by any client", sb.get("missed_events"), "0", lambda v: v == 0, fmt="{}")
    add(f"... betsdb's RSS growth for the {clients:,} clients < {STREAM_RSS_MB:.0f} MB", sb.get("rss_growth_mb"),
        f"< {STREAM_RSS_MB:.0f} MB", lambda v: v < STREAM_RSS_MB, " MB", "{:.1f}")
    for name, _ in STREAM_SCENARIOS:
        a = (st.get("api") or {}).get(name) or {}
        add(f"... {name} during the stream: req/s >= {STREAM_API_SHARE:.0%} of without", a.get("ratio"),
            f">= {STREAM_API_SHARE:.0%}", lambda v: v >= STREAM_API_SHARE, fmt=pct)
    for name, base, share in (("matches_c1000", "matches", 0.90), ("place_c1000", "place", 0.80)):
        e = res["extra"].get(name) or {}
        b = sc.get(base) or {}
        ratio = e["rps"] / b["rps"] if e.get("rps") and b.get("rps") else None
        add(f"1,000 connections: {base} req/s >= {share:.0%} of at {res['meta'].get('connections', 32)}", ratio,
            f">= {share:.0%}", lambda v, m=share: v >= m, fmt=pct)
        if base == "matches":
            add("1,000 connections: matches p99 < 50 ms", e.get("p99_ms"), "< 50 ms", lambda v: v < 50, " ms")
        else:
            add("1,000 connections: place zero non-2xx", e.get("non2xx"), "0", lambda v: v == 0, fmt="{}")
    idle = res["idle"] or {}
    idle_n = idle.get("connections", 1000)
    # The two budgets: 20 MB for 1,000 (issue 7), 100 MB for 10,000 (issue 24).
    idle_mb = 100 if idle_n >= 10000 else 20
    add(f"{idle_n:,} idle keep-alive connections cost < {idle_mb} MB", idle.get("rss_cost_mb"), f"< {idle_mb} MB",
        lambda v: v < idle_mb, " MB", "{:.1f}")
    add("... and do not slow the active ones: req/s >= 90% of without", idle.get("rps_ratio"), ">= 90%",
        lambda v: v >= 0.90, fmt=pct)
    add("... and p99 <= 125% of without", idle.get("p99_ratio"), "<= 125%", lambda v: v <= 1.25, fmt=pct)
    for name, c in (res.get("cluster") or {}).items():
        add(f"Redis Cluster: {name} req/s >= {CLUSTER_TARGET:.0%} of single-node Redis", c.get("ratio_to_single"),
            f">= {CLUSTER_TARGET:.0%}", lambda v: v >= CLUSTER_TARGET, fmt=pct)
    scale_targets(res, out)
    return out


def scale_targets(res, out):
    for name, e in ((res.get("scale") or {}).get("scenarios") or {}).items():
        t = e.get("target")
        if t is None:
            continue
        v = (e["configs"].get("h3") or {}).get("ratio_to_direct")
        what = f"HAProxy, 3 instances: {name} req/s >= {t:.0%} of one instance directly"
        if v is None:
            out.append({"target": what, "value": None, "limit": f">= {t:.0%}", "status": "not measured"})
        else:
            out.append({"target": what, "value": v, "display": f"{v:.0%}", "limit": f">= {t:.0%}",
                        "status": "met" if v >= t else "missed"})


def fmt(v, spec="{:.2f}", none="-"):
    return none if v is None else spec.format(v)


def table_rows(res):
    rows = []
    for name, _, ceiling in SCENARIOS:
        s = res["scenarios"][name]
        if s["available"]:
            rows.append([name, fmt(s["rps"], "{:.0f}"), fmt(s["p50_ms"]), fmt(s["p99_ms"]), str(s["non2xx"]),
                         ceiling, fmt(s.get("ceiling_rps"), "{:.0f}"), fmt(s.get("ratio"), "{:.0%}")])
        else:
            rows.append([name, "not available" if s["available"] is False else "not run",
                         "", "", "", ceiling, "", ""])
    # cash_out: accepted cash-outs/s (two requests each), no ceiling.
    c = res.get("cash_out") or {}
    if c.get("available"):
        rows.append(["cash_out (cash-outs/s)", fmt(c["cash_outs_per_s"], "{:.0f}"), fmt(c["p50_ms"]),
                     fmt(c["p99_ms"]), str(c["non2xx"]), "none", "", ""])
    else:
        rows.append(["cash_out (cash-outs/s)", "not available" if c.get("available") is False else "not run",
                     "", "", "", "none", "", ""])
    return rows


HEADERS = ["scenario", "2xx req/s", "p50 ms", "p99 ms", "non-2xx", "ceiling", "ceiling req/s", "ratio"]


CLUSTER_HEADERS = ["scenario", "one Redis 2xx req/s", "cluster 2xx req/s", "cluster / one", "p50 ms one / cluster",
                   "p99 ms one / cluster", "cluster non-2xx"]


def cluster_rows(res):
    rows = []
    for name, _, _ in SCENARIOS:
        c = (res.get("cluster") or {}).get(name)
        if not c:
            continue
        s = res["scenarios"][name]
        if c.get("rps") is None:
            rows.append([name, fmt(s.get("rps"), "{:.0f}"), "not available", "", "", "", ""])
            continue
        rows.append([name, fmt(s.get("rps"), "{:.0f}"), fmt(c["rps"], "{:.0f}"), fmt(c.get("ratio_to_single"), "{:.0%}"),
                     f'{fmt(s.get("p50_ms"))} / {fmt(c["p50_ms"])}', f'{fmt(s.get("p99_ms"))} / {fmt(c["p99_ms"])}',
                     str(c["non2xx"])])
    return rows


def cluster_cpu_rows(res):
    rows = []
    for name, _, _ in SCENARIOS:
        c = (res.get("cluster") or {}).get(name)
        if not c or not c.get("cpu_us_per_request"):
            continue
        for label, cpu in ((f"{name}, one Redis", res["scenarios"][name].get("cpu_us_per_request")),
                           (f"{name}, cluster", c["cpu_us_per_request"])):
            if cpu:
                rows.append([label] + [fmt(cpu.get(g), "{:.0f}") for g in CPU_GROUPS]
                            + [fmt(cpu.get("machine_busy"), "{:.0%}")])
    return rows


SCALE_HEADERS = ["scenario"] + [f"{label} 2xx req/s" for _, label in SCALE_CONFIGS[:1]] + \
    [f"{label}: req/s (vs direct)" for _, label in SCALE_CONFIGS[1:4]] + ["p99 ms direct / 3 inst.", "non-2xx", "target (3 inst.)",
                                                                          "diagnostic: 3 inst., server keep-alive (vs direct)"]


def scale_rows(res):
    rows = []
    for name, e in ((res.get("scale") or {}).get("scenarios") or {}).items():
        cf = e["configs"]
        d = cf.get("direct") or {}
        row = [name, fmt(d.get("rps"), "{:.0f}")]
        for cfg, _ in SCALE_CONFIGS[1:4]:
            c = cf.get(cfg) or {}
            row.append(f'{fmt(c.get("rps"), "{:.0f}")} ({fmt(c.get("ratio_to_direct"), "{:.0%}")})'
                       if c.get("rps") is not None else "-")
        h3 = cf.get("h3") or {}
        row.append(f'{fmt(d.get("p99_ms"))} / {fmt(h3.get("p99_ms"))}')
        row.append(str(sum(c.get("non2xx", 0) for c in cf.values())))
        t, v = e.get("target"), h3.get("ratio_to_direct")
        row.append("-" if t is None else f">= {t:.0%}: " + ("-" if v is None else ("met" if v >= t else "**missed**")))
        ka = cf.get("h3ka") or {}
        row.append(f'{fmt(ka.get("rps"), "{:.0f}")} ({fmt(ka.get("ratio_to_direct"), "{:.0%}")})'
                   if ka.get("rps") is not None else "-")
        rows.append(row)
    return rows


def scale_cpu_rows(res):
    rows = []
    for name, e in ((res.get("scale") or {}).get("scenarios") or {}).items():
        for cfg, label in SCALE_CONFIGS:
            cpu = (e["configs"].get(cfg) or {}).get("cpu_us_per_request")
            if cpu:
                rows.append([f"{name}, {label}"] + [fmt(cpu.get(g), "{:.0f}") for g in SCALE_CPU_GROUPS]
                            + [fmt(cpu.get("machine_busy"), "{:.0%}")])
    miss = (res.get("scale") or {}).get("miss") or {}
    for variant, label in (("primary", "cache misses, primary only"), ("standby", "cache misses, with the standby")):
        cpu = (miss.get(variant) or {}).get("cpu_us_per_request")
        if cpu:
            rows.append([label] + [fmt(cpu.get(g), "{:.0f}") for g in SCALE_CPU_GROUPS]
                        + [fmt(cpu.get("machine_busy"), "{:.0%}")])
    return rows


MISS_HEADERS = ["reads", "2xx req/s", "p50 ms", "p99 ms", "non-2xx", "loaded from the standby", "loaded from the primary (why)",
                "user_bets cache hits / misses"]


def miss_rows(res):
    miss = (res.get("scale") or {}).get("miss") or {}
    rows = []
    for variant, label in (("primary", "without BETSDB_DATABASE_REPLICA_URL"), ("standby", "with it (the standby)")):
        m = miss.get(variant)
        if not m:
            continue
        c = m.get("counters") or {}
        replica = sum(v for k, v in c.items() if k.startswith("reads replica "))
        primary = {k.split()[-1]: v for k, v in c.items() if k.startswith("reads primary ")}
        if variant == "primary":
            prim = "all (no standby configured)"
            replica_s = "0"
        else:
            prim = (str(sum(primary.values())) + " (" + ", ".join(f"{k}: {v}" for k, v in sorted(primary.items())) + ")"
                    if primary else "0")
            replica_s = str(replica)
        rows.append([label, fmt(m.get("rps"), "{:.0f}"), fmt(m.get("p50_ms")), fmt(m.get("p99_ms")), str(m.get("non2xx")),
                     replica_s, prim, f'{c.get("user_bets cache hit", 0)} / {c.get("user_bets cache miss", 0)}'])
    return rows


def scale_md(res, L):
    sc = res.get("scale")
    if not sc:
        return
    sm = sc["meta"]
    th = sm.get("threads") or {}
    L.append("## Several instances behind HAProxy")
    L.append("")
    L.append("`bench/run --cluster` (issue 17): the topology of `scripts/cluster` (HAProxy "
             f"{sm.get('haproxy')} with `option http-server-close`, roundrobin, checks on `/readyz`; a PostgreSQL "
             f"primary with a synchronous hot standby, synchronous_commit={(sm.get('pg') or {}).get('synchronous_commit')}, "
             f"synchronous_standby_names='{(sm.get('pg') or {}).get('synchronous_standby_names')}'; a 6-node Redis "
             "Cluster), brought up by `scripts/cluster` itself on private ports and seeded through HAProxy "
             f"({(sm.get('seed') or {}).get('users')} users). The instances read cache misses from the standby "
             "(`BETSDB_DATABASE_REPLICA_URL`, as `scripts/cluster` sets it). One instance with "
             f"{th.get('1')} threads is measured directly on its port, then through HAProxy; then 2 and 3 instances "
             f"with {th.get('2')} and {th.get('3')} thread(s) each (the topology's choice on {sm.get('cores')} cores: "
             "cores / instances, at least one: more instances share the cores, they cannot add any). Same wrk "
             "settings as above; all in the same run, the instance count changed by restarting the instances "
             "with `scripts/cluster up --instances N` (which rewrites HAProxy's server list and reloads it). "
             "The target is overhead: with 3 instances, cached reads at least 70% and `place` at least 90% of "
             "one instance reached directly. The last column is a diagnostic, not the topology: the same 3 "
             "instances through a second HAProxy with the same configuration except `option http-keep-alive` "
             "(HAProxy's default: connections to the instances kept open and reused) instead of "
             "`option http-server-close`, measured right after each `HAProxy, 3 instances` run.")
    L.append("")
    L.append(md_table(SCALE_HEADERS, scale_rows(res)))
    L.append("")
    for name, e in sc["scenarios"].items():
        for cfg, label in SCALE_CONFIGS:
            c = e["configs"].get(cfg) or {}
            if c.get("notes"):
                L.append(f"- `{name}`, {label}: " + " ".join(c["notes"]))
    cpu_rows = scale_cpu_rows(res)
    if cpu_rows:
        L.append("CPU microseconds per request, by process (median over rounds, from /proc): betsdb sums every "
                 "instance, postgres is the primary, standby the hot standby, redis the six cluster nodes; "
                 "\"machine busy\" is the share of both CPUs in use:")
        L.append("")
        L.append(md_table(["run"] + SCALE_CPU_GROUPS + ["machine busy"], cpu_rows))
        L.append("")
    if sc.get("miss"):
        L.append("### The standby and cache-miss reads")
        L.append("")
        L.append("With one instance's thread count, two instances on the same database and Redis Cluster, reached "
                 "directly: one without `BETSDB_DATABASE_REPLICA_URL`, one with it (instance 1 of the topology). Both "
                 "take the same stream of reads, `GET /v1/users/{id}/bets?limit=20&max_stake=S` over the users with "
                 "seeded bets, S different in every request (above every stake: the same rows, at the same cost, "
                 "under a key that never repeats), so every read is a cache miss; rounds alternate which goes first. "
                 "Where the misses were loaded from: `betsdb_db_reads_total{source,reason}` and the namespace's "
                 "`betsdb_cache_events_total`, scraped from the instance before and after each run, summed over rounds.")
        L.append("")
        L.append(md_table(MISS_HEADERS, miss_rows(res)))
        L.append("")
        if sc["miss"].get("standby_to_primary") is not None:
            L.append(f"With the standby, cache-miss reads ran at {sc['miss']['standby_to_primary']:.0%} of the "
                     "throughput without it (CPU per request in the table above).")
            L.append("")
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis-cluster.md")
    if os.path.exists(analysis):
        L.append("### What the figures say")
        L.append("")
        with open(analysis) as f:
            L.append(f.read().rstrip())
        L.append("")


SIGNIN_HEADERS = ["run", "2xx req/s", "answers/s", "p50 ms", "p99 ms", "max ms", "statuses"]


def signin_rows(res):
    rows = []
    for key, e in (res.get("signin") or {}).items():
        suffix = key[len("signin"):]
        if not e.get("available"):
            rows.append([key, "not available: " + (e.get("reason") or ""), "", "", "", "", ""])
            continue
        for name, _ in SIGNIN:
            x = (e.get("runs") or {}).get(name)
            if not x:
                continue
            maxes = [r.get("max_ms") for r in x.get("rounds") or []]
            rows.append([name + suffix, fmt(x["rps"], "{:.0f}"), fmt(x.get("rps_all_answers"), "{:.0f}"),
                         fmt(x["p50_ms"]), fmt(x["p99_ms"]), fmt(max([m for m in maxes if m is not None], default=None)),
                         ", ".join(f"{k}: {v}" for k, v in sorted((x.get("statuses") or {}).items())) or "-"])
    return rows


SIGNIN_TEXT = """\
Every `POST /v1/sessions` verifies an Argon2id hash (libsodium
`crypto_pwhash`, interactive limits: 64 MiB and tens of ms of one core) and
stores a session. The hashing runs on a small pool of password threads
(`BETSDB_PASSWORD_THREADS`, default 2), never on a shard's event loop, so
sign-ins are bounded by that pool (about threads / hash time per second) and
wait in its queue when more arrive, while other requests should keep their
latency.
`bench/run --only signin` signs up {users} users with passwords
(`bench/seed_signin.py`; the bench's servers run with
`BETSDB_SIGNUP_RATE_LIMIT=0`), then per round: a paced public read,
`GET {read_path}` ({read_connections} connections, each waiting
{read_delay_ms} ms between requests, `bench/wrk/paced_read.lua`; BENCH_SIGNIN_READ_PATH
changes the path, e.g. to /healthz, which never leaves the event loop), alone for
{alone_duration_s} s (`signin_read_alone`); `wrk -t{wrk_threads}
-c{connections}` signing the users in round-robin for {duration_s} s
(`signin`, `bench/wrk/signin.lua`), with the same paced read running beside
it (`signin_read`); and `signin_mixed`, as `signin` with every
{wrong_every}th request a wrong password for an email nobody has (a new one
each time: the server verifies a decoy hash, same cost, and answers 401; the
seeded users never reach the 10-failure lockout). A hash run on an event
loop would hold every request of its shard for the hash's duration: the
read's p99 during the sign-ins, against alone, is the check. Each hash holds
its 64 MiB while it runs, so betsdb's peak RSS grows by about 64 MiB per
password thread; it is reported below, apart from the scenarios' peak."""


def signin_md(res, L):
    si = res.get("signin")
    if not si:
        return
    L.append("## Sign-in")
    L.append("")
    settings = next((e.get("settings") for e in si.values() if e.get("settings")), None)
    if settings:
        L.append(textwrap.fill(SIGNIN_TEXT.format(**settings), 78, break_on_hyphens=False))
    L.append("")
    L.append(md_table(SIGNIN_HEADERS, signin_rows(res)))
    L.append("")
    for key, e in si.items():
        if not e.get("available"):
            continue
        seed = e.get("seed") or {}
        L.append(f"- `{key}`: {seed.get('users')} sign-ups with passwords took {seed.get('seconds')} s; "
                 f"the paced read's p99 {fmt(((e.get('runs') or {}).get('signin_read') or {}).get('p99_ms'))} ms during "
                 f"the sign-ins, {fmt(((e.get('runs') or {}).get('signin_read_alone') or {}).get('p99_ms'))} ms alone; "
                 f"betsdb's peak RSS after the sign-ins {fmt(e.get('peak_mb'), '{:.1f}')} MB"
                 + (f"; signin_mixed answers other than 201 and 401: {e['mixed_unexpected']}"
                    if e.get("mixed_unexpected") is not None else "") + "."
                 + (" " + " ".join(e["notes"]) if e.get("notes") else ""))
    L.append("")


SEARCH_HEADERS = ["run", "2xx req/s", "p50 ms", "p99 ms", "non-2xx", "cache hit / miss",
                  "CPU µs per request: betsdb / Redis / PostgreSQL / wrk / other", "vs ceiling"]


def search_rows(res):
    se = res.get("search") or {}
    if se.get("available") is False:
        return [["search", "not available: " + (se.get("reason") or "")] + [""] * (len(SEARCH_HEADERS) - 2)]

    def cpu(c):
        if not c:
            return "-"
        return " / ".join(fmt(c.get(g), "{:.0f}") for g in ("betsdb", "redis", "postgres", "wrk", "other processes"))

    def cache(e):
        c = e.get("cache") or {}
        return f'{c.get("hit", 0)} / {c.get("miss", 0)}' if c else "-"

    rows = []
    runs = se.get("runs") or {}
    for name, _ in SEARCH:
        e = runs.get(name)
        if not e:
            continue
        ratio = "-"
        if name == "search" and se.get("miss_ratio_to_pgbench") is not None:
            ratio = f'{se["miss_ratio_to_pgbench"]:.0%} of pgbench'
        if name == "search_hit" and se.get("hit_ratio_to_nginx") is not None:
            ratio = f'{se["hit_ratio_to_nginx"]:.0%} of nginx'
        rows.append([name, fmt(e["rps"], "{:.0f}"), fmt(e["p50_ms"]), fmt(e["p99_ms"]), str(e["non2xx"]), cache(e),
                     cpu(e.get("cpu_us_per_request")), ratio])
    pg = se.get("pgbench")
    if pg:
        rows.append(["ceiling: pgbench, the search statement (q alone)", fmt(pg["rps"], "{:.0f}"), fmt(pg["p50_ms"]),
                     fmt(pg["p99_ms"]), str(pg["failed"]) + (" (aborted)" if pg["aborted"] else ""), "-",
                     "- (see below)", "-"])
    if se.get("nginx_rps"):
        c = (res["ceilings"].get("nginx") or {})
        rows.append(["ceiling: nginx, the matches response as a file", fmt(c.get("rps"), "{:.0f}"), fmt(c.get("p50_ms")),
                     fmt(c.get("p99_ms")), "-", "-", cpu(c.get("cpu_us_per_request")), "-"])
    m = se.get("matches")
    if m:
        rows.append(["matches (status=open&limit=20, cached), same run", fmt(m["rps"], "{:.0f}"), fmt(m["p50_ms"]),
                     fmt(m["p99_ms"]), "-", "-", "-", "-"])
    return rows


SEARCH_EXPLAIN_HEADERS = ["term (matches)", "plan", "generic", "scans", "rows from the index", "rows read",
                          "removed", "shared hit / read", "temp written", "execution ms"]


def search_explain_rows(se):
    picks = (se.get("seed") or {}).get("picks") or {}
    counts = {p["term"]: p["matches"] for p in picks.values()}
    rows = []
    for r in (se.get("explain") or {}).get("runs") or []:
        if "title" not in r:
            continue
        label, _, mode = r["title"].partition(" ")
        term = f'{label} "{r["term"]}" ({counts.get(r["term"], "?"):,})' if isinstance(counts.get(r["term"]), int) \
            else f'{label} "{r["term"]}"'
        mode = mode.replace("open -date ", "status=open, sort=-date, ")
        rows.append([term, mode, "yes" if r["generic"] else "no", ", ".join(r["scans"]) or "-",
                     fmt(r.get("index_rows"), "{:,}"), fmt(r.get("matched_rows"), "{:,}"),
                     fmt(r.get("rows_removed"), "{:,}"),
                     f'{r["shared_hit"]} / {r["shared_read"]}', str(r.get("temp_written", 0)),
                     fmt(r.get("execution_ms"), "{:.1f}")])
    return rows


def search_md(res, L, md_path, explain_path):
    se = res.get("search")
    if not se:
        return
    L.append("## Search")
    L.append("")
    if se.get("available") is False:
        L.append(f"`GET /v1/matches?q=`: not available ({se.get('reason')}).")
        L.append("")
        return
    sd = se.get("seed") or {}
    three = sd.get("three_letter_hits_about") or {}
    L.append(textwrap.fill(
        f"`search` (issue 23, \"Discovery\": `q` \"stays fast with 100,000 matches\"): "
        f"**{sd.get('matches_total') or 0:,} matches in the table** during the run, {sd.get('search_matches') or 0:,} of "
        f"them seeded in SQL by `bench/sql/search_seed.sql` in {sd.get('seed_seconds', '?')} s "
        f"({sd.get('home_teams', '?')} teams from 300 towns, {sd.get('with_competition') or 0:,} with one of "
        f"{sd.get('competitions', '?')} competitions, {sd.get('open_matches') or 0:,} open, dates over the next "
        f"year; trigram index {fmt(sd.get('index_mb'), '{:.1f}')} MB, table {fmt(sd.get('table_mb'), '{:.1f}')} MB). "
        f"The miss runs walk a list of {sd.get('terms') or 0:,} terms, every distinct 2..8-character substring of "
        f"the seeded names in a fixed shuffled order (by length: {sd.get('terms_by_length', '?')}), one new term "
        "per request, so each is a new cache key answered by PostgreSQL; "
        + (f"a 3-letter term finds about {three.get('min'):,} to {three.get('max'):,} matches "
           f"(median {three.get('median'):,}). " if three else "")
        + "`search_hit` repeats 20 terms of 3..6 letters (cached after the warm-up). The pgbench ceiling runs "
        "the server's own search statement (`search_matches_asc`, from `src/store/pg/match_store.cpp`, "
        "`bench/search_sql.py`) with `-M prepared` on the same PostgreSQL, over the same terms, plus a primary-key "
        "read of each term; \"cache hit / miss\" are betsdb's `betsdb_cache_events_total` for the match lists "
        "over the measured runs.", 78, break_on_hyphens=False))
    L.append("")
    L.append(md_table(SEARCH_HEADERS, search_rows(res)))
    L.append("")
    L.append(textwrap.fill(
        "The pgbench row has no CPU split: PostgreSQL's backends for pgbench's connections exit with it, "
        "before the CPU is read again, and a process that has exited is not counted by `collect.py cpu` "
        "(its time went to its parent's children's time), so it would show under \"other\". betsdb's own "
        "connections stay open, so the scenario rows count PostgreSQL's share.", 78, break_on_hyphens=False))
    L.append("")
    probes = se.get("probes") or []
    if probes:
        counts = sd.get("picks") or {}
        L.append("One request at a time, each a cache miss (curl, end to end; a new far-future `to` makes each "
                 "a new key without changing the answer):")
        L.append("")
        rows = []
        what = dict(SEARCH_PICKS)
        for p in probes:
            c = counts.get(p["label"]) or {}
            rows.append([f'`{p["term"]}`', what.get(p["label"], p["label"]), fmt(c.get("matches"), "{:,}"),
                         fmt(p.get("p50_ms"), "{:.1f}"), fmt(p.get("max_ms"), "{:.1f}"),
                         ", ".join(sorted(set(str(x) for x in p.get("statuses") or [])))])
        L.append(md_table(["q", "what", "matches", "p50 ms", "max ms", "statuses"], rows))
        L.append("")
    ex = se.get("explain")
    if ex:
        rel = os.path.relpath(explain_path, os.path.dirname(os.path.abspath(md_path))) if explain_path else ex["file"]
        prepared = next((r["prepared"] for r in ex["runs"] if "prepared" in r), {})
        L.append(textwrap.fill(
            f"EXPLAIN (ANALYZE, BUFFERS) of the search statement ([{os.path.basename(rel)}]({rel})), prepared "
            "as the server prepares it and executed 10 times with other terms first, as a server connection "
            "would have: \"auto\" is the plan PostgreSQL then chooses (a custom plan for the term, or a generic "
            "one made without it), then both forced. \"Rows from the index\": what the trigram index "
            "returned (every row when the term has no trigram); \"rows read\": the rows the scan passed on "
            "after its recheck or filter (\"removed\"), every one of them counted by `count(*) OVER ()` "
            "before the page is cut; \"temp written\": blocks the window spilled to disk. Plans used in that "
            "session: "
            + "; ".join(f"{k}: {v['generic_plans']} generic, {v['custom_plans']} custom" for k, v in prepared.items())
            + ".", 78, break_on_hyphens=False))
        L.append("")
        L.append(md_table(SEARCH_EXPLAIN_HEADERS, search_explain_rows(se)))
        L.append("")
    for n in se.get("notes") or []:
        L.append(f"- {n}")
    if se.get("notes"):
        L.append("")


def write_scale_page(res, path):
    m = res["meta"]
    L = ["# Performance: several instances behind HAProxy", "",
         "Generated by `bench/run --only cluster` (issue 17); do not edit by hand, re-run it. The single-instance "
         "benchmark and its ceilings are in [performance.md](performance.md).", "",
         "```sh", "bench/run --only cluster     # ~15-20 min: 4 scenarios x 5 set-ups x 3 rounds of 10 s, then the standby",
         "bench/run --only cluster --smoke   # 1 s, 1 round: checks the harness", "```", "",
         f"Run of {res['generated_at']}" + (" (**smoke run: numbers are not meaningful**)" if m.get("smoke") else "")
         + f": commit `{m.get('commit')}`" + (" with local changes" if m.get("dirty") else "") + ", "
         + f"{m.get('cpus')} CPUs ({m.get('cpu_model')}), {m.get('memory_gb')} GB, Linux {m.get('kernel')}. "
         + f"wrk -t{m.get('wrk_threads')} -c{m.get('connections')}, {m.get('duration_s')} s per run, "
         + f"{m.get('rounds')} round(s), medians reported. PostgreSQL {m.get('postgresql')}, Redis {m.get('redis')}, "
         + f"wrk {m.get('wrk')}."]
    if m.get("note"):
        L += ["", m["note"]]
    if res.get("loadavg"):
        L += ["", "Machine load average (1, 5, 15 min): " + "; ".join(
            f"{k}: {v}" for k, v in res["loadavg"].items())
            + f" (on {m.get('cpus')} CPUs; h1..h3: when that many instances had started; anything above the "
            "benchmark's own load is other work on a shared machine)."]
    L.append("")
    scale_md(res, L)
    L.append("## Targets")
    L.append("")
    L.append(md_table(["target", "measured", "limit", "status"],
                      [[t["target"], t.get("display", "-"), t["limit"],
                        {"met": "met", "missed": "**missed**"}.get(t["status"], t["status"])] for t in res["targets"]]))
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


def print_rows(headers, body):
    rows = [headers] + body
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
    print()
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def print_table(res):
    if res.get("scale"):
        print("\nSeveral instances behind HAProxy (--cluster):")
        print_rows(SCALE_HEADERS, scale_rows(res))
        print("\nCPU microseconds per request, by process:")
        print_rows(["run"] + SCALE_CPU_GROUPS + ["machine busy"], scale_cpu_rows(res))
        if (res["scale"].get("miss")):
            print("\nCache-miss reads without and with the standby:")
            print_rows(MISS_HEADERS, miss_rows(res))
    if not res["meta"].get("main", True):
        print("\ntargets:")
        for t in res["targets"]:
            print(f"  [{t['status'].upper():12}] {t['target']}: {t.get('display', '-')}")
        print("loadavg: " + "; ".join(f"{k}: {v}" for k, v in (res.get("loadavg") or {}).items()))
        print()
        return
    print_rows(HEADERS, table_rows(res))
    if res.get("limited"):
        print("\nplace_limited (issue 21) beside place:")
        print_rows(LIMITED_HEADERS, limited_rows(res))
    if res.get("cluster"):
        print("\nRedis Cluster (a second betsdb on a 6-node cluster, each scenario right after its single-Redis run):")
        print_rows(CLUSTER_HEADERS, cluster_rows(res))
        print("\nCPU microseconds per request, by process:")
        print_rows(["run"] + CPU_GROUPS + ["machine busy"], cluster_cpu_rows(res))
    if res.get("signin"):
        print("\nSign-in (POST /v1/sessions) and a paced public read beside it:")
        print_rows(SIGNIN_HEADERS, signin_rows(res))
    se = res.get("search")
    if se:
        sd = se.get("seed") or {}
        print(f"\nSearch (GET /v1/matches?q=, {sd.get('matches_total') or 0:,} matches in the table, "
              f"{sd.get('terms') or 0:,} terms):")
        print_rows(SEARCH_HEADERS, search_rows(res))
        if se.get("probes"):
            print("\n  one at a time, cache misses: " + "; ".join(
                f'{p["label"]} "{p["term"]}" p50 {fmt(p.get("p50_ms"), "{:.1f}")} ms max {fmt(p.get("max_ms"), "{:.1f}")} ms'
                for p in se["probes"]))
        if se.get("explain"):
            print("\n  EXPLAIN (see " + se["explain"]["file"] + "):")
            print_rows(SEARCH_EXPLAIN_HEADERS, search_explain_rows(se))
    c = res["ceilings"]
    print()
    for key in ("nginx", "pgbench_place", "pgbench_checkout", "pgbench_place_batch"):
        if key in c:
            print(f"ceiling {key:17} {c[key]['rps']:10.0f} req/s  p50 {fmt(c[key]['p50_ms'])} ms  "
                  f"p99 {fmt(c[key]['p99_ms'])} ms")
    for key, v in (c.get("redis") or {}).items():
        print(f"ceiling redis {key:19} {v['rps']:10.0f} req/s")
    co = res.get("cash_out") or {}
    if co.get("available"):
        cpu = co.get("cpu_us_per_cash_out") or {}
        print(f"cash_out: {fmt(co['cash_outs_per_s'], '{:.0f}')} cash-outs/s ({fmt(co['rps_all_answers'], '{:.0f}')} req/s "
              f"of quotes and accepts), non-2xx {co['non2xx']}; CPU us per cash-out: "
              + ", ".join(f"{g} {fmt(cpu.get(g), '{:.0f}')}" for g in ("postgres", "betsdb", "redis", "wrk")))
        for n in co.get("notes") or []:
            print(f"note: cash_out: {n}")
    for name, b in (res.get("batches") or {}).items():
        print(f"group commit {name}: statements by placements carried "
              + ", ".join(f"{k}: {b['buckets'][k]}" for k in BATCH_BUCKETS)
              + f"; mean {fmt(b['mean'])}, retried alone {b['retried_alone']}")
    if res.get("stream"):
        print("\nLive stream (--stream):")
        print_rows(STREAM_HEADERS, stream_rows(res))
        if stream_api_rows(res):
            print()
            print_rows(STREAM_API_HEADERS, stream_api_rows(res))
    print(f"peak RSS of betsdb: {fmt(res['rss']['peak_scenarios_mb'], '{:.1f}')} MB in the scenarios, "
          f"{fmt(res['rss']['peak_mb'], '{:.1f}')} MB in the whole run")
    for n in res["notes"]:
        print(f"note: {n}")
    print("\ntargets:")
    for t in res["targets"]:
        print(f"  [{t['status'].upper():12}] {t['target']}: {t.get('display', '-')}")
    print()


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def write_md(res, path, png_path):
    m = res["meta"]
    png_rel = os.path.relpath(png_path, os.path.dirname(os.path.abspath(path)) or ".")
    L = []
    L.append("# Performance")
    L.append("")
    L.append("Generated by `bench/run` (the benchmark of issue 7); do not edit by hand, re-run it:")
    L.append("")
    L.append("```sh")
    L.append("bench/run                  # 10 s x 3 rounds of every scenario and ceiling (~20 min)")
    L.append("bench/run --big --idle     # also 10,000,000 bets and 1,000 idle connections")
    L.append("bench/run --only stream    # the live stream: 10,000 clients, 20 changes/s (also --stream)")
    L.append("bench/run --big --idle --many --stream --redis-cluster  # every section below (~45 min)")
    L.append("bench/run --smoke          # 1 s, 1 round: checks the harness still works")
    L.append("```")
    L.append("")
    L.append(f"Run of {res['generated_at']}" + (" (**smoke run: numbers are not meaningful**)" if m.get("smoke") else "")
             + f": commit `{m.get('commit')}`" + (" with local changes" if m.get("dirty") else "") + ", "
             + f"{m.get('cpus')} CPUs ({m.get('cpu_model')}), {m.get('memory_gb')} GB, Linux {m.get('kernel')}. "
             + f"wrk -t{m.get('wrk_threads')} -c{m.get('connections')}, {m.get('duration_s')} s per run, "
             + f"{m.get('rounds')} round(s), medians reported; betsdb threads: {m.get('server_threads')}"
             + (f", flags `{m['server_flags']}`" if m.get("server_flags") else "") + ". "
             + f"PostgreSQL {m.get('postgresql')} with fsync={m.get('pg_settings', {}).get('fsync')}, "
             + f"synchronous_commit={m.get('pg_settings', {}).get('synchronous_commit')} (as `scripts/run`); "
             + f"Redis {m.get('redis')}; nginx {m.get('nginx')}; wrk {m.get('wrk')}.")
    if m.get("note"):
        L.append("")
        L.append(m["note"])
    if res.get("loadavg"):
        L.append("")
        L.append("Machine load average (1, 5, 15 min) at the start: " + res["loadavg"].get("start", "?")
                 + "; at the end: " + res["loadavg"].get("end", "?")
                 + f" (on {m.get('cpus')} CPUs; anything above the benchmark's own load is other work on a shared machine).")
    s = res["seed"]
    if s:
        L.append("")
        L.append(f"Seeded through the API: {s.get('users')} users with balances, "
                 f"{sum((s.get('matches') or {}).values())} open matches, {s.get('bets')} existing bets "
                 f"({s.get('bettors')} users).")
    L.append("")
    L.append("## Scenarios and their ceilings")
    L.append("")
    L.append(md_table(HEADERS, table_rows(res)))
    L.append("")
    for name, what, _ in SCENARIOS:
        sc = res["scenarios"][name]
        extra = ""
        if sc.get("statuses") and set(sc["statuses"]) - {"200", "201"}:
            extra = " Statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(sc["statuses"].items())) + "."
        if sc.get("notes"):
            extra += " " + " ".join(sc["notes"])
        if not sc["available"] and sc.get("reason"):
            extra += f" Not available: {sc['reason']}."
        L.append(f"- `{name}`: {what}.{extra}")
    L.append(cash_out_bullet(res))
    L.append("")
    L.append(f"![throughput and latency]({png_rel})")
    L.append("")
    cpu_rows = []
    groups = ["betsdb", "redis", "postgres", "nginx", "wrk", "other processes"]
    ceiling_rows = [("nginx ceiling", res["ceilings"].get("nginx") or {}),
                    ("pgbench place ceiling", res["ceilings"].get("pgbench_place") or {}),
                    ("pgbench checkout ceiling", res["ceilings"].get("pgbench_checkout") or {}),
                    ("pgbench batched place ceiling (per transaction)",
                     res["ceilings"].get("pgbench_place_batch") or {})]
    extra_rows = [(n, (res.get("extra") or {}).get(n) or {}) for n in ("acca",)]
    # cash_out: per cash-out (its quote and its accept), not per request.
    extra_rows.append(("cash_out (per cash-out)",
                       {"cpu_us_per_request": (res.get("cash_out") or {}).get("cpu_us_per_cash_out")}))
    for name, entry in [(n, res["scenarios"][n]) for n, _, _ in SCENARIOS] + extra_rows + ceiling_rows:
        c = entry.get("cpu_us_per_request") if entry else None
        if c:
            cpu_rows.append([name] + [fmt(c.get(g), "{:.0f}") for g in groups] + [fmt(c.get("machine_busy"), "{:.0%}")])
    if cpu_rows:
        L.append("## Where the CPU goes")
        L.append("")
        L.append("CPU microseconds per request, by process (median over rounds, from /proc; "
                 "\"other processes\" is whatever else the machine ran meanwhile; for the pgbench ceilings "
                 "the wrk column is pgbench, per transaction), and how busy "
                 "all CPUs were during the run:")
        L.append("")
        L.append(md_table(["run"] + groups + ["machine busy"], cpu_rows))
        L.append("")
    if res.get("cluster"):
        L.append("## Redis Cluster")
        L.append("")
        L.append("`bench/run --redis-cluster`: a second `betsdb`, on the same database, uses a private Redis "
                 "Cluster of 6 processes (3 masters, 3 replicas, AOF `everysec`, from "
                 "`scripts/lib/redis_cluster.sh`) on the same machine; each scenario runs on it right after its "
                 "run on the single Redis, with the same client settings, so both see the same machine load. "
                 "The redis column sums the CPU of all six nodes.")
        L.append("")
        L.append(md_table(CLUSTER_HEADERS, cluster_rows(res)))
        L.append("")
        cpu_rows = cluster_cpu_rows(res)
        if cpu_rows:
            L.append("CPU microseconds per request, by process (as above):")
            L.append("")
            L.append(md_table(["run"] + CPU_GROUPS + ["machine busy"], cpu_rows))
            L.append("")
        for name, c in res["cluster"].items():
            extra = ""
            if c.get("statuses") and set(c["statuses"]) - {"200", "201"}:
                extra = " Statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(c["statuses"].items())) + "."
            if c.get("notes"):
                extra += " " + " ".join(c["notes"])
            if extra:
                L.append(f"- `{name}` on the cluster:{extra}")
        L.append("")
    scale_md(res, L)
    batches_md(res, L)
    L.append("## Ceilings")
    L.append("")
    rows = []
    for key, label in CEILING_NAMES.items():
        c = res["ceilings"].get(key)
        if c:
            rows.append([label, fmt(c["rps"], "{:.0f}"), fmt(c["p50_ms"]), fmt(c["p99_ms"])])
    for key, v in (res["ceilings"].get("redis") or {}).items():
        rows.append([f"redis-benchmark {key}", fmt(v["rps"], "{:.0f}"), fmt(v["p50_ms"]), fmt(v["p99_ms"])])
    L.append(md_table(["ceiling", "req/s (tps)", "p50 ms", "p99 ms"], rows) if rows else "Not measured in this run.")
    if res.get("pgbench_sql"):
        L.append("")
        L.append(f"pgbench scripts: {res['pgbench_sql']}.")
    if res.get("notes"):
        L.append("")
        L.extend(f"- {n}" for n in res["notes"])
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append(md_table(["target", "measured", "limit", "status"],
                      [[t["target"], t.get("display", "-"), t["limit"],
                        {"met": "met", "missed": "**missed**"}.get(t["status"], t["status"])] for t in res["targets"]]))
    L.append("")
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):
        L.append("## What bounds each figure")
        L.append("")
        with open(analysis) as f:
            L.append(f.read().rstrip())
        L.append("")
    signin_md(res, L)
    limited_md(res, L)
    search_md(res, L, path, res.get("search_explain_path"))
    L.append("## Memory")
    L.append("")
    r = res["rss"]
    L.append(md_table(["after", "peak RSS (VmHWM) MB", "RSS MB"],
                      [[x["after"], fmt(x["peak_mb"], "{:.1f}"), fmt(x["rss_mb"], "{:.1f}")] for x in r["by_phase"]]))
    if res["big"] or res["extra"]:
        L.append("")
        L.append("## Large database and idle connections")
        L.append("")
        if res["big"]:
            b = res["big"]
            miss = b.get("summary_miss") or {}
            L.append(f"- {b['bets']} bets in the database (seeded in SQL in {b['seed_seconds']} s).")
            if miss:
                L.append(f"- Summary on a cache miss: median {fmt(miss.get('p50_ms'), '{:.1f}')} ms, "
                         f"max {fmt(miss.get('max_ms'), '{:.1f}')} ms over {len(miss.get('ms') or [])} requests.")
        for name, what in EXTRA:
            e = res["extra"].get(name)
            if e and e.get("rps") is not None:
                L.append(f"- {what}: {e['rps']:.0f} req/s, p50 {fmt(e['p50_ms'])} ms, p99 {fmt(e['p99_ms'])} ms, "
                         f"non-2xx {e['non2xx']}.")
            elif e:
                L.append(f"- {what}: not available.")
        if res["idle"]:
            i = res["idle"]
            L.append(f"- {i['connections']} idle keep-alive connections: RSS +{fmt(i['rss_cost_mb'], '{:.1f}')} MB "
                     f"(the largest round; rounds: {', '.join(fmt(c, '{:.1f}') for c in i['rss_cost_mb_rounds'])}: "
                     "later rounds reuse memory the allocator kept from the first); "
                     f"active req/s with them {fmt(i.get('rps_ratio'), '{:.0%}')} of without, "
                     f"p99 {fmt(i.get('p99_ratio'), '{:.0%}')} of without.")
    L.append("")
    stream_md(res, L)
    L.append("## Method")
    L.append("")
    L.append(METHOD)
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


LIMITED_HEADERS = ["scenario", "2xx req/s", "p50 ms", "p99 ms", "non-2xx", "vs place",
                   "CPU µs per bet: betsdb / Redis / PostgreSQL / wrk / other"]


def batches_md(res, L):
    batches = res.get("batches")
    if not batches:
        return
    L.append("## Group commit")
    L.append("")
    L.append("Placing statements during each place scenario, by the placements (single bets; 4-leg "
             "accumulators in acca; cash-outs in cash_out, its timed phases only) each carried "
             "(betsdb_placement_batches_total), the mean, and the placements placed again alone because "
             "their batch could not decide for each (a liability limit, a concurrent duplicate):")
    L.append("")
    rows = []
    for name, b in batches.items():
        rows.append([name] + [str(b["buckets"][k]) for k in BATCH_BUCKETS]
                    + [fmt(b["mean"]), str(b["retried_alone"])])
    L.append(md_table(["scenario"] + [f"{k} asks" for k in BATCH_BUCKETS] + ["mean", "retried alone"], rows))
    c = res["ceilings"].get("pgbench_place_batch")
    if c:
        L.append("")
        L.append(f"The batched ceiling: pgbench running the group commit's statement with "
                 f"{c['bets_per_transaction']} bettors' bets in each transaction (the mean above, rounded), "
                 f"from {c['clients']} clients (one statement per shard, as betsdb sends them): "
                 f"{c['tps']:.0f} transactions/s, {c['rps']:.0f} bets/s.")
    L.append("")


def cash_out_bullet(res):
    c = res.get("cash_out") or {}
    line = f"- `cash_out`: {CASH_OUT_WHAT}; the figure is accepted cash-outs per second (200 answers to accepts)"
    if not c:
        return line + ". Not run."
    if not c.get("available"):
        return line + f". Not available: {c.get('reason')}."
    line += (f"; wrk: {fmt(c['rps_all_answers'], '{:.0f}')} req/s of both kinds, p50 and p99 over both "
             f"(not split by kind); {c['cash_outs']:,} cash-outs of {c['quotes']:,} quotes.")
    if c.get("statuses") and set(c["statuses"]) - {"200", "201"}:
        line += " Statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(c["statuses"].items())) + "."
    if c.get("notes"):
        line += " " + " ".join(c["notes"])
    return line


def limited_rows(res):
    lim = res.get("limited") or {}
    if lim.get("available") is False or lim.get("rps") is None:
        return [["place_limited", "not available" if lim.get("available") is False else "not run", "", "", "", "", ""]]

    def cpu(c):
        if not c:
            return "-"
        return " / ".join(fmt(c.get(g), "{:.0f}") for g in ("betsdb", "redis", "postgres", "wrk", "other processes"))

    return [["place", fmt(lim.get("place_rps"), "{:.0f}"), fmt(lim.get("place_p50_ms")), fmt(lim.get("place_p99_ms")),
             str((res["scenarios"].get("place") or {}).get("non2xx", "-")), "100%",
             cpu(lim.get("place_cpu_us_per_request"))],
            ["place_limited", fmt(lim["rps"], "{:.0f}"), fmt(lim["p50_ms"]), fmt(lim["p99_ms"]), str(lim["non2xx"]),
             fmt(lim.get("ratio"), "{:.0%}"), cpu(lim.get("cpu_us_per_request"))]]


def limited_md(res, L):
    lim = res.get("limited")
    if not lim:
        return
    L.append("## Responsible gambling: placing with stake limits")
    L.append("")
    L.append(textwrap.fill(
        "`place_limited` (issue 21) places bets exactly as `place` does (`bench/wrk/place.lua`: the same stake, "
        "every request a new (user, match, selection), consecutive requests by different bettors), but its "
        f"{lim.get('users', '?')} bettors each have a stake limit per day, week and month (in force, high enough "
        "never to refuse a bench bet, the day's and week's below the bettor's lifetime total) and "
        f"{lim.get('bets_per_user', 0):,} stakes in the ledger spread over the last 30 days "
        f"({lim.get('stake_rows', 0):,} rows, seeded in SQL in {lim.get('seed_seconds', '?')} s by "
        "`bench/sql/limited_seed.sql`, before `place` runs, so both run on the same database), on "
        f"{lim.get('matches', '?')} open matches of their own. Every placement checks the three rolling windows "
        "(docs/architecture.md, \"Responsible gambling\"). Target: at least 90% of `place`'s throughput.",
        78, break_on_hyphens=False))
    L.append("")
    L.append(md_table(LIMITED_HEADERS, limited_rows(res)))
    L.append("")
    if lim.get("limits"):
        L.append(f"Limits of each bettor, in cents: {lim['limits']}.")
        L.append("")


STREAM_HEADERS = ["run", "clients", "changes/s", "events", "last client p50 ms", "p99 ms", "max ms",
                  "first client p50 ms", "p99 by round", "missed", "dropped", "RSS growth MB", "server CPU",
                  "harness CPU"]


def stream_rows(res):
    st = res.get("stream") or {}
    if st.get("available") is False:
        return [["betsdb", "not available: " + (st.get("reason") or "")] + [""] * (len(STREAM_HEADERS) - 2)]
    rows = []
    for label, s, phase in (("betsdb, stream alone", st.get("betsdb"), "alone"),
                            ("betsdb, during the API scenarios", st.get("betsdb"), "with_api"),
                            ("ceiling: Redis pub/sub", st.get("ceiling"), "alone")):
        if not s:
            continue
        if phase == "with_api":
            if not s.get("with_api_events"):
                continue
            rows.append([label, f'{s["connected"]:,}', f'{s["rate"]:g}', str(s["with_api_events"]),
                         fmt(s["with_api_p50_ms"], "{:.1f}"), fmt(s["with_api_p99_ms"], "{:.1f}"),
                         fmt(s["with_api_max_ms"], "{:.1f}"), "", "", "", "", "", "", ""])
            continue
        rows.append([label, f'{s["connected"]:,}' + ("" if s["connected"] == s["clients"] else f' of {s["clients"]:,}'),
                     f'{s["rate"]:g}', str(s["events"]), fmt(s["p50_ms"], "{:.1f}"), fmt(s["p99_ms"], "{:.1f}"),
                     fmt(s["max_ms"], "{:.1f}"), fmt(s["first_p50_ms"], "{:.1f}"),
                     ", ".join(fmt(v, "{:.0f}") for v in s["p99_ms_rounds"]),
                     str(s["missed_events"]), str(s["dropped_clients"]), fmt(s["rss_growth_mb"], "{:.1f}"),
                     fmt(s["server_cpu_share"], "{:.0%}"), fmt(s["harness_cpu_share"], "{:.0%}")])
    return rows


STREAM_API_HEADERS = ["scenario", "2xx req/s without the stream", "with it", "with / without",
                      "p99 ms without / with", "non-2xx with"]


def stream_api_rows(res):
    rows = []
    for name, a in ((res.get("stream") or {}).get("api") or {}).items():
        if a.get("available") is False:
            rows.append([name, "not available", "", "", "", ""])
            continue
        b, l = a["base"], a["loaded"]
        rows.append([name, fmt(b["rps"], "{:.0f}"), fmt(l["rps"], "{:.0f}"), fmt(a["ratio"], "{:.0%}"),
                     f'{fmt(b["p99_ms"])} / {fmt(l["p99_ms"])}', str(l["non2xx"])])
    return rows


def stream_md(res, L):
    st = res.get("stream")
    if not st:
        return
    L.append("## Live stream")
    L.append("")
    if st.get("available") is False:
        L.append(f"`GET /v1/stream`: not available ({st.get('reason')}).")
        L.append("")
        return
    cfg = st.get("settings") or {}
    b = st.get("betsdb") or {}
    scen = cfg.get("scenarios", "").split()
    scen = " and ".join(f"`{x}`" for x in scen) + (" scenario" if len(scen) == 1 else " scenarios") if scen \
        else "no scenario"
    matches = ((b.get("rounds") or [{}])[0]).get("matches", "?")
    L.append(textwrap.fill(
        f"`bench/run --stream` (issue 20, `bench/stream.py`): {cfg.get('clients', 0):,} clients on `GET /v1/stream`, "
        "all in one process (bench/stream_reader.cpp: one epoll loop), every one connected before the measurement; "
        f"then {cfg.get('rate')} match changes a second (`PATCH /v1/matches/{{id}}` with new odds, over {matches} "
        "matches, sent on an open-loop schedule by a separate process) for "
        f"{cfg.get('seconds_alone')} s with nothing else running, then on during the "
        f"{scen} (wrk as above, {cfg.get('wrk_duration_s')} s each), which also ran just before without any "
        "stream client (changes written within 1.5 s of a wrk run count as during it: a busy betsdb holds "
        "events back for up to 1 s). Fan-out latency: from the write's "
        "HTTP response to the moment the last client read the event (the first client's in its own column; "
        "an event can reach a client before its write's response is read, so that column can be negative). "
        "Every event is checked at every client: \"missed\" counts events of the run's writes that some client "
        "never got. RSS growth: betsdb's VmRSS with every client connected (and again while streaming, "
        "before the API scenarios; the larger) minus before they connected, the largest round. "
        "The ceiling: the same harness, clients and rate on Redis pub/sub (a private redis-server; SUBSCRIBE, "
        "PUBLISH of an event of the same shape and size, latency from PUBLISH's reply): a C server's "
        "single-threaded fan-out on this machine with this client, so the harness's own share is in both. "
        "Server and harness CPU: share of one core while the changes ran with nothing else, before the API "
        "scenarios; the harness shares the machine's cores with the server.", 78, break_on_hyphens=False))
    L.append("")
    L.append(md_table(STREAM_HEADERS, stream_rows(res)))
    L.append("")
    if b:
        L.append(f"- betsdb: writes' own latency p50 {fmt(b.get('write_p50_ms'))} ms, p99 {fmt(b.get('write_p99_ms'))} ms; "
                 f"non-2xx writes {b.get('write_errors')}; 503 refusals while connecting {b.get('refused_503')} "
                 f"(retried); connecting took up to {fmt(b.get('connect_seconds'), '{:.1f}')} s; "
                 f"RSS growth by round: {', '.join(fmt(v, '{:.1f}') for v in b.get('rss_growth_mb_rounds') or [])} MB; "
                 f"duplicates {b.get('duplicates')}.")
        L.append("")
    rows = stream_api_rows(res)
    if rows:
        L.append("The API scenarios without and with the stream (medians over rounds):")
        L.append("")
        L.append(md_table(STREAM_API_HEADERS, rows))
        L.append("")
    for n in st.get("notes") or []:
        L.append(f"- {n}")
    if st.get("notes"):
        L.append("")


METHOD = """\
- `bench/run` starts a private PostgreSQL 15 (the settings of `scripts/run`:
  fsync and synchronous commit on), a private Redis and the release `betsdb`
  with its defaults (log level `warn`), all on free loopback ports with their
  state in `.betsdb/bench/`, and seeds users, matches and bets through the API.
- req/s counts successful (2xx) answers only; non-2xx answers (wrk counts
  statuses of 400 and above; these routes answer nothing in 1xx or 3xx) are
  listed apart. `--statuses` also counts the write scenarios' answers by
  status, but then wrk parses every response in Lua, on the cores the server
  needs, so it is off by default. Every scenario and every ceiling runs with the same client settings
  (wrk `-t2 -c32`, pgbench `-j2 -c32`) for the same time; each is run
  `--rounds` times and the median of the rounds is reported (req/s, and the
  median over rounds of each round's p50 and p99).
- Cached reads are warmed for one second first. `user_bets` rotates over the
  users that have bets, each with its own token. `place` makes every request
  a new (user, match, selection) and consecutive requests belong to different
  users, so a request fails only if the server fails it. `cart` runs, per
  round, an add phase (every request adds one item; five make a cart) and then
  a checkout phase (one request per filled 5-item cart). `cash_out` places,
  untimed before each round, single bets as `place` does until its users
  have enough pending ones (1.5 x the previous round's cash-outs/s for the
  round), exports them (consecutive bets by different users), then each
  bet is quoted and the quote accepted (each wrk thread accepts the quotes it
  received before it asks for more).
- Ceilings: nginx (Debian nginx-light, as many workers as betsdb has threads,
  no access log) serving the exact bytes of the matches response as a static
  file; pgbench (`-M prepared`) committing the same transaction a placement
  commits (`bench/pgbench/place.sql`: the match read FOR SHARE, the conditional
  debit, the bet, the ledger row) and the one a 5-item checkout commits
  (`bench/pgbench/checkout.sql`), on the same PostgreSQL server, against the
  server's own schema (`betsdb migrate`); redis-benchmark GET/SET without and
  with pipelining (16), for reference.
- Peak RSS is betsdb's VmHWM from /proc after each phase.
- `place_limited` seeds its bettors in SQL before the API seed
  (`bench/sql/limited_seed.sql`: users, their stake limits, a deposit and
  100,000 stake rows each with the running totals the server keeps, checked
  before the run), so `place` and `place_limited` run on the same database.
- `--big` adds bets in SQL (users, matches, bets, ledger rows consistent with
  balances) up to 10,000,000 and measures, with one connection, bet-list pages
  whose URLs never repeat (every request a cache miss) and the summary with
  Redis emptied before each request. `--stream` (see "Live stream" above)
  holds the stream clients in one process of `bench/stream.py` and compares
  the fan-out with Redis pub/sub measured by the same harness. `--idle` runs the matches scenario
  without and then with 1,000 keep-alive connections that have each served a
  request and stay idle (re-used one at a time over 20 s so the server's idle
  timeout keeps them), and compares betsdb's RSS before and after opening them.
  `--many` runs matches and place once more with wrk -c1000 right after
  their -c32 runs (the harness raises its file limit; these machines cap it
  at 20,000 per process), and makes `--idle` open 10,000 connections.
- wrk, the servers and the ceilings share the same cores (2 on the reference
  machine), so every figure includes the load generator's cost; ratios to the
  ceilings are the meaningful numbers, absolute figures are for this machine."""


def chart(res, png, work):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("report: gnuplot not found; no chart", file=sys.stderr)
        return False
    rows = [(n, res["scenarios"][n]) for n, _, _ in SCENARIOS if res["scenarios"][n]["available"]]
    if not rows:
        return False
    dat = os.path.join(work, "chart.dat")
    with open(dat, "w") as f:
        f.write("# scenario betsdb_rps ceiling_rps p50_ms p99_ms ratio_pct target_pct\n")
        for name, s in rows:
            ratio = 100.0 * s["ratio"] if s.get("ratio") is not None else 0.0
            f.write(f'"{name}" {s["rps"]:.1f} {s.get("ceiling_rps") or 0:.1f} {s["p50_ms"]:.3f} '
                    f'{s["p99_ms"]:.3f} {ratio:.1f} {RATIO_TARGETS[name]}\n')
    script = os.path.join(work, "chart.gp")
    m = res["meta"]
    title = (f"betsdb vs ceilings: wrk -t{m.get('wrk_threads')} -c{m.get('connections')}, "
             f"{m.get('duration_s')} s x {m.get('rounds')} rounds (medians), {m.get('cpus')} CPUs")
    with open(script, "w") as f:
        f.write(f"""
set terminal pngcairo size 1100,1250 font "DejaVu Sans,10" noenhanced
set output "{png}"
set multiplot layout 3,1 title "{title}"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set logscale y
set xtics nomirror
set title "Throughput (req/s, log scale): betsdb and the ceiling it is compared with"
set ylabel "requests per second"
plot "{dat}" using 2:xtic(1) title "betsdb" lc rgb "#2b6cb0", \\
     "" using 3 title "ceiling (nginx or pgbench)" lc rgb "#a0aec0", \\
     "" using ($0-1.0/6):($2*1.3):(sprintf("%.0f", $2)) with labels notitle font ",9", \\
     "" using ($0+1.0/6):($3*1.3):(($3 > 0) ? sprintf("%.0f", $3) : "") with labels notitle font ",9"
set title "Ratio to the ceiling (%) and the target"
set ylabel "% of the ceiling"
unset logscale y
set yrange [0:*]
plot "{dat}" using 6:xtic(1) title "betsdb / ceiling" lc rgb "#2b6cb0", \\
     "" using 7 title "target" lc rgb "#e2e8f0", \\
     "" using ($0-1.0/6):($6+3):(sprintf("%.0f%%", $6)) with labels notitle font ",9", \\
     "" using ($0+1.0/6):($7+3):(sprintf("%.0f%%", $7)) with labels notitle font ",9"
set logscale y
set yrange [*:*]
set title "Latency (ms, log scale): median over rounds of p50 and p99"
set ylabel "milliseconds"
plot "{dat}" using 4:xtic(1) title "p50" lc rgb "#38a169", \\
     "" using 5 title "p99" lc rgb "#dd6b20", \\
     "" using ($0-1.0/6):($4*1.3):(sprintf("%.2f", $4)) with labels notitle font ",9", \\
     "" using ($0+1.0/6):($5*1.3):(sprintf("%.2f", $5)) with labels notitle font ",9"
unset multiplot
""")
    proc = subprocess.run([gnuplot, script], capture_output=True, text=True)
    if proc.returncode != 0:
        print("report: gnuplot failed:\n" + proc.stderr, file=sys.stderr)
        return False
    return True


# What a run measures only when asked (bench/run --big, --idle or --many,
# --stream, --redis-cluster): a run without them that writes over a page
# that had them loses their figures.
OPTIONAL_SECTIONS = {"big": "--big", "idle": "--idle/--many", "stream": "--stream", "cluster": "--redis-cluster"}


def sections_dropped(previous_json, res):
    try:
        with open(previous_json) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return []
    return [flag for key, flag in OPTIONAL_SECTIONS.items() if previous.get(key) and not res.get(key)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--png", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--search-explain", help="where search-explain.txt was copied (linked from the page)")
    args = ap.parse_args()

    res = build(load(args.raw))
    dropped = sections_dropped(args.json, res)
    if args.search_explain:
        res["search_explain_path"] = os.path.abspath(args.search_explain)
    for p in (args.json, args.md, args.png):
        os.makedirs(os.path.dirname(os.path.abspath(p)), exist_ok=True)
    main_run = res["meta"].get("main", True)
    res["chart"] = os.path.basename(args.png) if main_run and chart(res, os.path.abspath(args.png), args.work) else None
    with open(args.json, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    if main_run:
        write_md(res, args.md, args.png)
    else:
        write_scale_page(res, args.md)
    print_table(res)
    print(f"results: {args.json}, {args.md}" + (f", {args.png}" if res["chart"] else ""))
    if dropped:
        print(f"warning: {args.md} no longer has what the run it replaced measured: {', '.join(dropped)}; "
              f"run those too, or restore the page (git checkout -- {args.md} {args.json}) and use --out DIR",
              file=sys.stderr)
    missed = [t for t in res["targets"] if t["status"] == "missed"]
    return 3 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
