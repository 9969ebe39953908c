"""What Prometheus's queries assume of /metrics and `promtool check metrics`
does not check (it lints one document at a time): check.sh runs this over the
scrapes it took, oldest first, from one server process.

  - in each scrape, each histogram series has cumulative buckets (never
    fewer at a larger `le`), a +Inf bucket, and _count equal to it
    (histogram_quantile() and the ratios over _count rely on it);
  - from one scrape to the next, no counter (a counter family's samples,
    and a histogram's _bucket, _count and _sum) goes down: rate() reads a
    decrease as a restart of the process and counts the whole value again;
  - no counter series that was there disappears (a label set's counter
    stays once it has appeared: an alert on it would otherwise go silent).

Usage: scrape_invariants.py SCRAPE.txt...   Prints each breach; exits 1 if any.
Stdlib only; parses the text format as betsdb writes it (one sample a line,
no timestamps, no exemplars).
"""

import math
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(path):
    """-> (types {family: type}, samples {(name, labels tuple): float})."""
    types, samples = {}, {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("# HELP"):
                continue
            if line.startswith("# TYPE"):
                _, _, name, kind = line.split(" ", 3)
                types[name] = kind
                continue
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                raise SystemExit(f"{path}:{number}: cannot parse: {line}")
            labels = tuple(sorted(LABEL.findall(m.group(3) or "")))
            samples[(m.group(1), labels)] = float(m.group(4))
    return types, samples


def family_of(name, types):
    for suffix in ("_bucket", "_count", "_sum"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def is_counter(name, types):
    family = family_of(name, types)
    return types.get(family) == "counter" or (family != name and types.get(family) == "histogram")


def fmt(name, labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


def check_histograms(path, types, samples, problems):
    series = {}
    for (name, labels), value in samples.items():
        family = family_of(name, types)
        if types.get(family) != "histogram" or not name.endswith("_bucket"):
            continue
        le = dict(labels).get("le")
        rest = tuple(kv for kv in labels if kv[0] != "le")
        bound = math.inf if le == "+Inf" else float(le)
        series.setdefault((family, rest), []).append((bound, value))
    for (family, rest), buckets in series.items():
        buckets.sort()
        for (b1, v1), (b2, v2) in zip(buckets, buckets[1:]):
            if v2 < v1:
                problems.append(f"{path}: {fmt(family + '_bucket', rest)}: le={b2} has {v2} < {v1} at le={b1}")
        if buckets[-1][0] != math.inf:
            problems.append(f"{path}: {fmt(family + '_bucket', rest)}: no +Inf bucket")
            continue
        count = samples.get((family + "_count", rest))
        if count != buckets[-1][1]:
            problems.append(f"{path}: {fmt(family + '_count', rest)} is {count}, +Inf bucket {buckets[-1][1]}")


def main(paths):
    problems = []
    previous = None
    for path in paths:
        types, samples = parse(path)
        check_histograms(path, types, samples, problems)
        if previous is not None:
            prev_path, prev_types, prev_samples = previous
            for key, old in prev_samples.items():
                if not is_counter(key[0], prev_types):
                    continue
                new = samples.get(key)
                if new is None:
                    problems.append(f"{path}: counter {fmt(*key)} ({old} in {prev_path}) is gone")
                elif new < old:
                    problems.append(f"{path}: counter {fmt(*key)} went down: {old} -> {new}")
        previous = (path, types, samples)
    for p in problems:
        print(p)
    print(f"scrape_invariants: {len(paths)} scrapes, {len(problems)} problem(s)")
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
