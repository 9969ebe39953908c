"""Sums JUnit XML reports into the one closing line CI reads:
'N passed, N failed' (', N skipped' when any). Exits 1 if anything failed.

Each failure is printed first, with the start of its message: CI shows the
end of the output, and a stage's own report of it may be far above (or cut)."""
import sys
import xml.etree.ElementTree as ET

MESSAGE_LINES = 25

passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"cannot read {path}: {e}")
        failed += 1
        continue
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed += 1
            text = (problem.get("message") or "") + "\n" + (problem.text or "")
            failures.append((path, case.get("classname") or "", case.get("name") or "", text.strip()))
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1

for path, suite, name, text in failures:
    print(f"FAILED {suite} :: {name}  ({path.rsplit('/', 1)[-1]})")
    lines = text.splitlines()
    for line in lines[:MESSAGE_LINES]:
        print(f"    {line[:300]}")
    if len(lines) > MESSAGE_LINES:
        print(f"    ... ({len(lines) - MESSAGE_LINES} more lines in {path})")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or skipped or passed == 0 else 0)
