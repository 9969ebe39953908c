"""Writes a one-test JUnit report, so a stage that is not a test framework
(the fuzzer) counts in the closing "N passed, N failed" line.
Usage: junit_case.py OUT.xml SUITE NAME STATUS [LOG]  (STATUS 0 = passed)."""
import re
import sys
from xml.sax.saxutils import escape

out, suite, name, status = sys.argv[1:5]
log = ""
if len(sys.argv) > 5:
    try:
        with open(sys.argv[5], errors="replace") as f:
            log = f.read()[-4000:]
    except OSError:
        log = "(no log)"
# Logs may hold colour codes or other control characters XML does not allow.
log = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", log)
failure = "" if status == "0" else f'<failure message="failed">{escape(log)}</failure>'
with open(out, "w") as f:
    f.write(f'<?xml version="1.0"?>\n<testsuite name="{escape(suite)}" tests="1">'
            f'<testcase classname="{escape(suite)}" name="{escape(name)}">{failure}</testcase></testsuite>\n')
