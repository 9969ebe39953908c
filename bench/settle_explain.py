#!/usr/bin/env python3
"""Prints a psql script that runs settle_match's statements (as in
src/store/pg/bet_store.cpp, read from the source so it follows the code)
under EXPLAIN (ANALYZE, BUFFERS), in settle_match's order, in one
transaction that is rolled back. Used by bench/settle_legs.sh.

  settle_explain.py --match ID --result 1|X|2|void [--source bet_store.cpp]

Each statement is PREPAREd without parameter types (as libpq's prepared
statements are, the types inferred) and EXPLAIN ANALYZE EXECUTEd with the
settlement plan's parameters (domain::plan_settlement: the result's
selection wins and is paid its potential payout, the others lose; "void"
voids and refunds every selection). Standard library only.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = ["kSettlementTurn", "kCloseMatch", "kSettlingBettors", "kSettleBets", "kSettleLegs", "kFinishAccumulators", "kClearExposure"]
MACROS = {
    "BETSDB_MATCH_COLUMNS": "id",  # only the columns the server maps; the plan is the UPDATE's
}


def statements(source):
    text = open(source).read()
    out = {}
    for m in re.finditer(r'constexpr pg::Statement (k\w+)\{\s*"(\w+)",(.*?)\};', text, re.S):
        const, name, body = m.group(1), m.group(2), m.group(3)
        parts = []
        for piece in re.finditer(r'R"sql\((.*?)\)sql"|"((?:[^"\\]|\\.)*)"|(BETSDB_\w+)', body, re.S):
            if piece.group(1) is not None:
                parts.append(piece.group(1))
            elif piece.group(2) is not None:
                parts.append(piece.group(2))
            else:
                macro = piece.group(3)
                parts.append(MACROS.get(macro, "\0" + macro))  # an unknown macro: checked below
        out[const] = (name, "".join(parts))
    return out


def turn_key(source):
    """The advisory lock key settle_match takes its turn with."""
    m = re.search(r"kSettlementTurnKey = ([0-9a-fx']+);", open(source).read())
    if not m:
        raise SystemExit(f"settle_explain: kSettlementTurnKey not found in {source}")
    return int(m.group(1).replace("'", ""), 0)


def plan(result):
    """(status, ledger kind or None) per selection 1, X, 2."""
    if result == "void":
        return [("void", "refund")] * 3
    return [("won", "payout") if s == result else ("lost", None) for s in ("1", "X", "2")]


def lit(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--match", type=int, required=True)
    ap.add_argument("--result", required=True, choices=["1", "X", "2", "void"])
    ap.add_argument("--source", default=os.path.join(HERE, "..", "src", "store", "pg", "bet_store.cpp"))
    args = ap.parse_args()
    found = statements(args.source)
    missing = [s for s in STEPS if s not in found]
    if missing:
        raise SystemExit(f"settle_explain: not found in {args.source}: {', '.join(missing)}")
    for const in STEPS:
        if "\0" in found[const][1]:
            raise SystemExit(f"settle_explain: {const} uses a macro this script does not know")
    p = plan(args.result)
    params = {
        "kCloseMatch": [args.match, args.result],
        "kSettlementTurn": [turn_key(args.source)],
        "kSettlingBettors": [args.match],
        "kSettleBets": [args.match] + [x for status, kind in p for x in (status, kind)],
        "kSettleLegs": [args.match] + [status for status, _ in p],
        "kFinishAccumulators": [args.match],
        "kClearExposure": [args.match],
    }
    w = sys.stdout.write
    w("\\timing on\nBEGIN;\n")
    for const in STEPS:
        name, sql = found[const]
        w(f"\\echo '=== {const} ({name})'\n")
        w(f"PREPARE {name} AS {sql.strip()};\n")
        w(f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE OFF) EXECUTE {name}({', '.join(lit(v) for v in params[const])});\n")
    w("ROLLBACK;\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
