#!/usr/bin/env python3
"""The group commit's counters from a betsdb /metrics page (issue 24).

  batches.py snapshot URL          -> {"batches": {"1": n, "2-3": n, ...}, "asks": n, "retried_alone": n}
  batches.py size BEFORE AFTER     -> the mean placements per statement between two snapshots,
                                      rounded (at least 1)
  batches.py add TOTAL BEFORE AFTER -> TOTAL (a snapshot) plus what happened between BEFORE and
                                      AFTER: several timed runs summed, leaving out the untimed
                                      work between them (cash_out's fills)

betsdb counts its placing statements by the placements (single bets, cart
checkouts, accumulators or cash-outs) each carried: betsdb_placement_batches_total{asks="..."}, and
betsdb_placement_batch_asks_total. Standard library only.
"""
import json
import re
import sys
import urllib.request

SAMPLE = re.compile(r'^(betsdb_placement_\w+)(?:\{asks="([^"]*)"\})?\s+(\S+)$')


def snapshot(url):
    text = urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10).read().decode()
    out = {"batches": {}, "asks": 0, "retried_alone": 0}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, bucket, value = m.group(1), m.group(2), int(float(m.group(3)))
        if name == "betsdb_placement_batches_total" and bucket:
            out["batches"][bucket] = value
        elif name == "betsdb_placement_batch_asks_total":
            out["asks"] = value
        elif name == "betsdb_placement_retried_alone_total":
            out["retried_alone"] = value
    return out


def delta(before, after):
    return {"batches": {k: after["batches"].get(k, 0) - before["batches"].get(k, 0) for k in after["batches"]},
            "asks": after["asks"] - before["asks"],
            "retried_alone": after["retried_alone"] - before["retried_alone"]}


def add(total, before, after):
    d = delta(before, after)
    keys = set(total["batches"]) | set(d["batches"])
    return {"batches": {k: total["batches"].get(k, 0) + d["batches"].get(k, 0) for k in sorted(keys)},
            "asks": total["asks"] + d["asks"],
            "retried_alone": total["retried_alone"] + d["retried_alone"]}


def main(argv):
    if len(argv) == 3 and argv[1] == "snapshot":
        print(json.dumps(snapshot(argv[2])))
        return 0
    if len(argv) == 5 and argv[1] == "add":
        print(json.dumps(add(*(json.loads(a) for a in argv[2:5]))))
        return 0
    if len(argv) == 4 and argv[1] == "size":
        d = delta(json.loads(argv[2]), json.loads(argv[3]))
        statements = sum(d["batches"].values())
        print(max(1, round(d["asks"] / statements)) if statements else 1)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
