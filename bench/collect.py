#!/usr/bin/env python3
"""Turns a tool's raw output into one JSON line for bench/run's record.

  collect.py pgbench DIR START CLIENTS ITEMS INSERTED
      DIR holds pgbench's stdout (out.txt) and its per-transaction logs
      (txn.*, from -l --log-prefix DIR/txn). Prints tps, latency percentiles
      (ms), failures, and `next`: the first transaction index the next run
      may use (each client numbers its transactions from 1, and transaction n
      of client c used index START + c + (n - 1) * CLIENTS). ITEMS bets per
      transaction and INSERTED bets counted in the table tell whether every
      transaction placed its bets (`placed_all`).
  collect.py redis CSVFILE PIPELINE
      redis-benchmark --csv output: one JSON line per test.
  collect.py cpu NAME=PID[,PID...] ...
      CPU seconds used so far by each NAME's PIDs and all their descendants
      (threads included; e.g. the six nodes of a Redis Cluster under one
      name), plus "machine": busy seconds of all CPUs (/proc/stat), and
      "wall": a monotonic clock reading.
  collect.py times FILE
      Seconds of CPU used by the shell's finished children, from the output of
      bash's `times` builtin (second line).
  collect.py summary-miss FILE
      curl -w '%{http_code} %{time_total}' lines: times in ms and statuses.
Standard library only.
"""
import csv
import glob
import json
import os
import re
import sys
import time


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, int(round(p / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def pgbench(directory, start, clients, items, inserted):
    out = open(os.path.join(directory, "out.txt")).read()
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", out, re.M)
    processed = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    aborted = "Run was aborted" in out or "aborted in command" in out
    latencies, max_no = [], 0
    for path in glob.glob(os.path.join(directory, "txn.*")):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3 or parts[2] in ("failed", "skipped"):
                    continue
                max_no = max(max_no, int(parts[1]))
                latencies.append(int(parts[2]))
    latencies.sort()
    result = {
        "tps": float(tps.group(1)) if tps else None,
        "transactions": int(processed.group(1)) if processed else len(latencies),
        "failed": int(failed.group(1)) if failed else None,
        "aborted": aborted,
        "latency_ms": {
            "p50": ms(percentile(latencies, 50)),
            "p99": ms(percentile(latencies, 99)),
            "max": ms(latencies[-1] if latencies else None),
        },
        "start": start,
        "next": start + clients * (max_no + 1),
        "bets_inserted": inserted,
    }
    # Transactions still running when -T ran out may commit after the count.
    result["placed_all"] = inserted >= items * result["transactions"]
    if aborted:
        errors = [l for l in out.splitlines() if "error" in l.lower()]
        result["errors"] = errors[:3]
    return result


def ms(us):
    return None if us is None else round(us / 1000.0, 3)


def redis(csv_path, pipeline):
    rows = []
    with open(csv_path) as f:
        for row in csv.DictReader(f):
            test = row.get("test", "").split()[0]
            rows.append({
                "test": test, "pipeline": pipeline,
                "rps": float(row["rps"]),
                "p50_ms": float(row["p50_latency_ms"]) if row.get("p50_latency_ms") else None,
                "p99_ms": float(row["p99_latency_ms"]) if row.get("p99_latency_ms") else None,
            })
    return rows


def summary_miss(path):
    times, statuses = [], []
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            statuses.append(int(parts[0]))
            times.append(round(float(parts[1]) * 1000.0, 3))
    ordered = sorted(times)
    return {"ms": times, "statuses": statuses, "p50_ms": percentile(ordered, 50),
            "max_ms": ordered[-1] if ordered else None}


def cpu(pairs):
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[1] is the ppid, fields[11]/[12] utime/stime (after the name)
            stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for pair in pairs:
        name, _, pids = pair.partition("=")
        total, todo = 0, [int(p) for p in pids.split(",") if p.isdigit()]
        while todo:
            p = todo.pop()
            if p in stats:
                total += stats[p][1]
                todo.extend(children.get(p, []))
        out[name] = total / tick
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice: busy is
    # user+nice+system+irq+softirq (guest time is already inside user/nice).
    out["machine"] = (v[0] + v[1] + v[2] + v[5] + v[6]) / tick
    out["wall"] = time.clock_gettime(time.CLOCK_MONOTONIC)
    return out


def main(argv):
    if len(argv) >= 2 and argv[1] == "pgbench" and len(argv) == 7:
        print(json.dumps(pgbench(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))))
    elif len(argv) >= 2 and argv[1] == "redis" and len(argv) == 4:
        for row in redis(argv[2], int(argv[3])):
            print(json.dumps(row))
    elif len(argv) >= 2 and argv[1] == "times" and len(argv) == 3:
        lines = open(argv[2]).read().split("\n")
        total = 0.0
        for part in lines[1].split():
            m = re.match(r"(\d+)m([\d.]+)s", part)
            total += int(m.group(1)) * 60 + float(m.group(2))
        print(round(total, 3))
    elif len(argv) >= 2 and argv[1] == "cpu":
        print(json.dumps(cpu(argv[2:])))
    elif len(argv) >= 2 and argv[1] == "summary-miss" and len(argv) == 3:
        print(json.dumps(summary_miss(argv[2])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
