"""Judges the exchanges prism_proxy.cjs logged during the API suite, and
writes the run's JUnit report.

Rule:
  - a response violation (the server's answer does not match the spec for
    that route and status) always fails: for good and bad requests alike;
  - a request violation (the request does not match the spec) passes only if
    the server refused the request too (a 4xx): the suite sends invalid input
    on purpose, and the spec and the server must agree that it is invalid. A
    request the spec forbids but the server accepts (2xx, 3xx) or fails on
    (5xx) fails;
  - known_violations.yaml lists the exceptions, each with its reason.

Usage: prism_report.py LOG KNOWN_YAML JUNIT_OUT [PYTEST_JUNIT...]
Prints a summary, then "N passed, N failed" counted over the pytest reports
plus one case for the conformance verdict; exits 1 on any failure.
"""

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from xml.sax.saxutils import escape

import yaml

SHOW = 40  # violations printed in full; the rest are counted


def load_known(path):
    with open(path, encoding="utf-8") as f:
        entries = yaml.safe_load(f) or []
    for entry in entries:
        entry["used"] = 0
    return entries


def matches(entry, exchange, kind, violation):
    if "kind" in entry and entry["kind"] != kind:
        return False
    if "test" in entry and entry["test"] != exchange.get("test"):
        return False
    if "status" in entry and entry["status"] != exchange.get("status"):
        return False
    if "target" in entry and not re.search(entry["target"], exchange.get("target", "")):
        return False
    if "message" in entry and entry["message"] not in violation["message"]:
        return False
    return True


def judge(log_path, known):
    stats = Counter()
    failures = []
    for line in open(log_path, encoding="utf-8"):
        if not line.strip():
            continue
        ex = json.loads(line)
        stats["exchanges"] += 1
        where = f"{ex.get('test')}: {ex.get('method')} {ex.get('target', '')[:200]} -> {ex.get('status')}"
        if "proxy_error" in ex:
            failures.append(f"{where}: the proxy could not reach the server: {ex['proxy_error']}")
            continue
        if "error" in ex:
            failures.append(f"{where}: Prism could not judge the exchange: {ex['error'][:300]}")
            continue
        status = ex["status"]
        refused = 400 <= status < 500
        if ex.get("judge_error"):
            stats["request not validated (Prism error), response judged"] += 1
            if not refused:
                failures.append(f"{where}: {ex['judge_error']} and the server accepted it")
        if not ex.get("route_found", True):
            stats["no operation in the spec (404/405 expected)"] += 1
        for kind in ("request", "response"):
            for v in ex.get(kind, []):
                if v["severity"] not in ("error", "warning"):
                    continue
                if v["message"] == "Selected route not found" and refused:
                    continue  # a path or method the spec does not have, refused: as the spec says
                known_entry = next((e for e in known if matches(e, ex, kind, v)), None)
                if known_entry is not None:
                    known_entry["used"] += 1
                    stats[f"known ({known_entry['id']})"] += 1
                    continue
                if kind == "request" and refused:
                    stats["request violations the server refused too (4xx)"] += 1
                    continue
                stats[f"{kind} violations"] += 1
                detail = f"{where}\n    {kind}: {v['message']}"
                if "request_body" in ex and kind == "request":
                    detail += f"\n    request body: {ex['request_body'][:300]!r}"
                if "response_body" in ex and kind == "response":
                    detail += f"\n    response body: {ex['response_body'][:300]!r}"
                failures.append(detail)
    return stats, failures


def pytest_counts(paths):
    passed = failed = 0
    suites = []
    for path in paths:
        root = ET.parse(path).getroot()
        for suite in ([root] if root.tag == "testsuite" else root.findall("testsuite")):
            suites.append(suite)
            for case in suite.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                elif case.find("skipped") is None:
                    passed += 1
    return passed, failed, suites


def main():
    log_path, known_path, junit_out, *pytest_reports = sys.argv[1:]
    known = load_known(known_path)
    stats, failures = judge(log_path, known)

    print(f"Prism judged {stats['exchanges']} exchanges:")
    for key, count in sorted(stats.items()):
        if key != "exchanges":
            print(f"  {count:6d}  {key}")
    for entry in known:
        if entry["used"] == 0:
            print(f"  note: known_violations.yaml entry {entry['id']!r} matched nothing (stale?)")
    if failures:
        print(f"{len(failures)} violations:")
        for detail in failures[:SHOW]:
            print("  " + detail)
        if len(failures) > SHOW:
            print(f"  ... and {len(failures) - SHOW} more (see the log)")
    elif stats["exchanges"] == 0:
        failures.append("the proxy logged no exchange: nothing was judged")
        print("error: " + failures[0])
    else:
        print("no violations")

    passed, failed, suites = pytest_counts(pytest_reports)
    conformance_ok = not failures
    passed += conformance_ok
    failed += not conformance_ok

    with open(junit_out, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
        for suite in suites:
            f.write(ET.tostring(suite, encoding="unicode"))
            f.write("\n")
        body = "" if conformance_ok else (
            '<failure message="OpenAPI violations">' + escape("\n".join(failures[:200])) + "</failure>")
        f.write('<testsuite name="openapi-conformance" tests="1">'
                '<testcase classname="openapi-conformance" '
                'name="every exchange of the API suite matches docs/openapi.yaml (Prism)">'
                f"{body}</testcase></testsuite>\n</testsuites>\n")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
