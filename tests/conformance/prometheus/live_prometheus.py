"""The second half of check.sh's live check: a real Prometheus server (the
Debian package's, on a private port and a temporary TSDB) has scraped betsdb
once a second through the load and evaluated deploy/prometheus/betsdb.rules.yml
on what it scraped. promtool lints one document; this proves the server
ingests every scrape and that the rules evaluate on real series (label
matching in `<`, `/`, `and`, `or` fails only on real data: "many-to-many
matching", "same labelset after applying alert labels").

Usage: live_prometheus.py PROMETHEUS_URL MODE
  MODE scrape: up is 1 over at least 3 scrapes, and Prometheus rejected no
               sample (duplicate or out-of-order timestamps, limits);
  MODE rules:  no rule group failed an evaluation, and the recording rules
               have values (the request rate above 0, the p99 a number).
Waits up to 15 s for the scrapes and evaluations to be there. Prints what it
found, and the alerts pending or firing (for the reader; a busy shared test
server may well have some); exits 1 on a failed condition.
"""

import json
import math
import sys
import time
import urllib.parse
import urllib.request

DEADLINE = 15.0


def get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def query(base, expr):
    body = json.loads(get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]


def own_metrics(base):
    """Prometheus's own counters, summed by name."""
    sums = {}
    for line in get(base + "/metrics").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        name = series.split("{", 1)[0]
        sums.setdefault(name, {})[series] = float(value)
    return sums


def wait_for(check):
    """Retries check() -> (ok, report lines) until ok or the deadline."""
    end = time.monotonic() + DEADLINE
    while True:
        ok, report = check()
        if ok or time.monotonic() > end:
            return ok, report
        time.sleep(0.5)


def scrape_mode(base):
    def check():
        up = query(base, 'up{job="betsdb"}')
        samples = query(base, 'count_over_time(up{job="betsdb"}[1m])')
        ok = len(up) == 1 and up[0][1] == 1 and samples and samples[0][1] >= 3
        return ok, [f"up: {up}", f"scrapes in the last minute: {samples}"]

    ok, report = wait_for(check)
    own = own_metrics(base)
    for name in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                 "prometheus_target_scrapes_sample_out_of_order_total",
                 "prometheus_target_scrapes_sample_out_of_bounds_total",
                 "prometheus_target_scrapes_exceeded_sample_limit_total",
                 "prometheus_target_scrapes_exceeded_body_size_limit_total",
                 "prometheus_target_scrape_pool_exceeded_label_limits_total"):
        values = own.get(name, {})
        total = sum(values.values())
        report.append(f"{name}: {total:g}")
        if total:
            ok = False
    samples = query(base, 'scrape_samples_scraped{job="betsdb"}')
    report.append(f"samples a scrape: {samples[0][1]:g}" if samples else "no scrape_samples_scraped")
    return ok, report


def rules_mode(base):
    def check():
        rate = query(base, "instance:betsdb_http_requests:rate2m")
        p99 = query(base, "instance:betsdb_http_request_duration_seconds:p99_2m")
        busy = query(base, "instance:betsdb_pg_pool_busy:ratio_avg5m")
        ok = (len(rate) == 1 and rate[0][1] > 0
              and len(p99) == 1 and not math.isnan(p99[0][1])
              and len(busy) == 1 and not math.isnan(busy[0][1]))
        return ok, [f"requests/s (2m): {rate}", f"p99 (2m): {p99}", f"pool busy (5m avg): {busy}"]

    ok, report = wait_for(check)
    own = own_metrics(base)
    failures = own.get("prometheus_rule_evaluation_failures_total", {})
    groups = {s: v for s, v in failures.items() if "betsdb.rules.yml" in s}
    if len(groups) < 5:
        ok = False
        report.append(f"expected the 5 rule groups of betsdb.rules.yml, found {sorted(groups)}")
    for series, value in sorted(groups.items()):
        report.append(f"{series}: {value:g}")
        if value:
            ok = False
    evaluations = own.get("prometheus_rule_group_iterations_total", {})
    report.append(f"rule group evaluations: {sum(v for s, v in evaluations.items() if 'betsdb' in s):g}")
    for metric, _ in query(base, "ALERTS"):
        report.append(f"alert (for the reader): {metric.get('alertname')} {metric.get('alertstate')}"
                      f" {metric.get('instance', '')}")
    return ok, report


def main():
    base, mode = sys.argv[1].rstrip("/"), sys.argv[2]
    ok, report = {"scrape": scrape_mode, "rules": rules_mode}[mode](base)
    print("\n".join(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
